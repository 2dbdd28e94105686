"""What an operator does in an open conversation, in words of the screen, shared by the tests."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.web.browser.inbox import row


def open_conversation(page: Page, name: str) -> Locator:
    """Click `name`'s row; returns the main region once the conversation's heading shows."""
    row(page, name).click()
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=2, name=name, exact=True)).to_be_visible()
    return main


def timeline(page: Page) -> Locator:
    return page.get_by_role("feed")


def bubble(page: Page, text: str) -> Locator:
    """The message (an article in the feed) that shows `text`."""
    return timeline(page).get_by_role("article").filter(has_text=text)


def bot_bubbles(page: Page) -> Locator:
    return timeline(page).get_by_role("article", name=re.compile(r"^Bot\b"))
