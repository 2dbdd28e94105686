"""The try-it console: a customer message shows the bot's match, its confidence, alternatives and the reply."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.world import World


def try_message(page: Page, text: str) -> None:
    page.get_by_label("Customer message").fill(text)
    page.get_by_role("button", name="Try").click()


def test_the_try_it_console_shows_a_match(ui: OpenPage, world: World) -> None:
    page = ui(world.operators["supervisor"], path="/admin/try").page
    try_message(page, "Hi, I need to file a claim for my car")
    main = page.get_by_role("main")
    expect(main.get_by_text(re.compile(r'^Starts the script ".+"$'))).to_be_visible()
    bar = main.get_by_role("img", name=re.compile(r": \d{1,3}% · (High|Medium|Low)$")).first
    expect(bar).to_be_visible()
    expect(main.get_by_text("The bot would send")).to_be_visible()
    # Nothing was sent to anyone: no conversation appeared.
    assert world.server.ok(world.admin, "GET", "/conversations")["items"] == []


def test_an_unmatched_message_says_what_the_bot_would_do(ui: OpenPage, world: World) -> None:
    page = ui(world.operators["supervisor"], path="/admin/try").page
    try_message(page, "zzzz qqqq xxxx")
    expect(
        page.get_by_role("main").get_by_text(re.compile(r"rephrase|not sure|Hands over", re.I)).first
    ).to_be_visible()
