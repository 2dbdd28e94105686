"""Nothing the inbox adds on its own covers what the operator reads: the "N updated" pill sits in the list head, not
over the first row, and the first hand-off's notification offer is a line in the page's flow (answered once), not a
toast over the list's bottom rows."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.inbox import UPDATES_PILL, row, wait_connected
from tests.web.browser.world import World

# Headless Chromium answers "denied"; an operator who was never asked sees "default".
NEVER_ASKED = "Object.defineProperty(window.Notification, 'permission', { get: () => 'default' });"


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and (b["y"] < a["y"] + a["height"])
    )


def _rows_covered_by(page: Page, box: dict[str, float]) -> list[str]:
    rows = page.get_by_role("listbox", name="Conversations").get_by_role("option")
    return [
        rows.nth(i).get_attribute("aria-label") or ""
        for i in range(rows.count())
        if rows.nth(i).is_visible() and _overlap(_box(rows.nth(i)), box)
    ]


def test_the_updates_pill_and_the_notification_offer_cover_no_row(
    ui: OpenPage, world: World, cast: dict[str, Any]
) -> None:
    session = ui(world.admin, path=None)
    session.context.add_init_script(NEVER_ASKED)
    page = session.goto("/")
    expect(row(page, "Noah Davis")).to_be_visible()
    wait_connected(page)
    # Focus in the list: a new conversation waits behind the pill instead of moving the rows.
    page.get_by_role("listbox", name="Conversations").focus()
    world.customer_says("api", "Otávio Prado", "Quero falar com um atendente, por favor")
    pill = page.get_by_role("button", name=UPDATES_PILL)
    expect(pill).to_be_visible()
    assert _rows_covered_by(page, _box(pill)) == []

    offer = page.get_by_role("region", name="Offer")
    expect(offer).to_contain_text("Get a browser notification next time?", timeout=15000)
    expect(page.get_by_role("region", name="Notifications").get_by_role("status")).to_have_count(0)
    assert _rows_covered_by(page, _box(offer)) == []
    assert _box(offer)["y"] + _box(offer)["height"] <= _box(page.get_by_role("main"))["y"] + 1
    offer.get_by_role("button", name="Not now").click()
    expect(offer).to_be_hidden()
    # Offered once: a reload and the next hand-off do not bring it back.
    page.reload()
    expect(row(page, "Noah Davis")).to_be_visible()
    wait_connected(page)
    world.customer_says("api", "Rita Paes", "Quero falar com um atendente, por favor")
    expect(row(page, "Rita Paes").or_(page.get_by_role("button", name=UPDATES_PILL)).first).to_be_visible()
    expect(page.get_by_role("region", name="Offer")).to_be_hidden()
