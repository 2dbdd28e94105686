"""What an operator does in the inbox, in words of the screen (roles and accessible names), shared by the tests."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

UPDATES_PILL = re.compile(r"updated — show")


def conversation_list(page: Page, label: str = "Conversations") -> Locator:
    return page.get_by_role("listbox", name=label)


def row(page: Page, name: str, *, label: str = "Conversations") -> Locator:
    """The list row whose accessible name starts with the contact's name (`label`: the list's, per language)."""
    return conversation_list(page, label).get_by_role("option", name=re.compile(rf"^{re.escape(name)},"))


def wait_connected(page: Page) -> None:
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")


def show_updates(page: Page, count: int | None = None) -> None:
    """New conversations wait behind the "N updated — show at the top" pill while focus is in the list (the list never
    moves under the operator, ui-guide §6); press it, after checking how many it announces when `count` is given."""
    pill = page.get_by_role("button", name=UPDATES_PILL)
    expect(pill).to_be_visible()
    if count is not None:
        expect(pill).to_have_accessible_name(re.compile(rf"^{count} conversations? updated"))
    pill.click()
    expect(pill).to_be_hidden()


def reveal(page: Page, name: str, *, count: int | None = None) -> Locator:
    """The row of `name`, which arrived live: either placed at once (list calm) or behind the updates pill (which
    must then announce `count` updates when given)."""
    target = row(page, name)
    pill = page.get_by_role("button", name=UPDATES_PILL)
    expect(target.or_(pill).first).to_be_visible()
    if not target.is_visible():
        show_updates(page, count)
    expect(target).to_be_visible()
    return target


def open_filters(page: Page) -> Locator:
    """The filters panel; on rail-width screens (1024 to 1439 px) it flies out from the "Views and filters" button."""
    panel = page.get_by_role("group", name="Filters")
    if not panel.is_visible():
        page.get_by_role("button", name="Views and filters").click()
    expect(panel).to_be_visible()
    return panel


def pick(page: Page, label: str, choice: str) -> None:
    """Choose `choice` in the type-ahead picker named `label` (a button that opens a searchable listbox)."""
    open_filters(page).get_by_role("button", name=re.compile(rf"^{re.escape(label)}\b")).click()
    page.get_by_role("combobox", name=f"Search {label}").fill(choice)
    page.get_by_role("option", name=choice, exact=True).click()


def shown_ids(page: Page) -> set[int]:
    rows = conversation_list(page).get_by_role("option")
    return {int(i) for i in rows.evaluate_all("rows => rows.map((r) => r.dataset.id)")}
