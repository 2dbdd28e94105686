"""What an operator does in the inbox, in words of the screen (roles and accessible names), shared by the tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Locator, Page, Route, expect

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


def fake_conversation(i: int, now: datetime) -> dict[str, Any]:
    """Conversation number `i` as `GET /conversations` returns it: varied kinds, chips and waits."""
    at = (now - timedelta(minutes=i)).isoformat()
    return {
        "id": 500_000 + i,
        "status": "open",
        "handler": "human",
        "priority": "urgent" if i % 17 == 0 else "none",
        "tags": [],
        "contact": {"id": 900_000 + i, "name": f"Customer {i}"},
        "channel": {"id": 1, "kind": ("whatsapp", "messenger", "instagram", "api")[i % 4], "name": "Channel"},
        "profile": None,
        "event": {"id": 1, "name": "Auto Show 2026", "logo_url": None} if i % 2 else None,
        "assignee": None,
        "last_message": {"preview": f"Message {i}", "author_kind": "contact", "author_name": None, "at": at},
        "unread_count": i % 3,
        "window": {"state": "open", "expires_at": (now + timedelta(hours=5)).isoformat(), "human_expires_at": None},
        "snoozed_until": None,
        "last_inbound_at": at,
        "last_activity_at": at,
        "created_at": at,
        "waiting_since": at if i % 4 == 0 else None,
        "escalation": {"reason": "customer_request", "detail": None, "at": at} if i % 8 == 0 else None,
    }


def fake_conversation_pages(total: int) -> Callable[[Route], None]:
    """A route handler answering `GET /conversations?cursor=&limit=` with `total` fake conversations in pages,
    so the list can be driven far past what a seeded database holds."""
    now = datetime.now(UTC)

    def pages(route: Route) -> None:
        query = parse_qs(urlparse(route.request.url).query)
        start = int(query.get("cursor", ["0"])[0])
        limit = int(query.get("limit", ["50"])[0])
        items = [fake_conversation(i, now) for i in range(start, min(total, start + limit))]
        following = str(start + limit) if start + limit < total else None
        route.fulfill(
            status=200, content_type="application/json", body=json.dumps({"items": items, "next_cursor": following})
        )

    return pages
