"""Filters typed or pasted into the inbox URL: unknown values are dropped with a note that says which, and a filter
the server refuses shows the server's reason — never an i18n key, an empty chip or a misleading sentence."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.inbox import conversation_list
from tests.web.browser.world import World


def test_unknown_filter_values_in_the_url_are_ignored_and_said(
    ui: OpenPage, world: World, cast: dict[str, Any]
) -> None:
    session = ui(world.admin, path="/?status=bogus&channel_kind=nope&assignee=zzz&kind=whatsapp&shoe=42")
    page = session.page
    note = page.get_by_role("status").filter(has_text="unknown filters")
    # A kind is known by the channels the operator sees: that one is checked once their list is in.
    expect(note).to_contain_text("Ignored 4 unknown filters:")
    for part in ("Status “bogus”", "Channel kind “nope”", "Assigned to “zzz”", "shoe “42”"):
        expect(note).to_contain_text(part)
    # The valid one stays, as a chip and in the address; the rest are gone from both.
    chips = page.get_by_role("list", name="Active filters")
    expect(chips.get_by_role("button")).to_have_count(1)
    expect(chips.get_by_role("button").first).to_have_text("Channel kind: WhatsApp")
    expect(page).to_have_url(re.compile(r"/\?kind=whatsapp$"))
    expect(conversation_list(page).get_by_role("option").first).to_be_visible()
    expect(page.locator(".list-pane .error-box")).to_have_count(0)
    # Dismissible from the keyboard.
    note.get_by_role("button", name="Dismiss the note about ignored filters").press("Enter")
    expect(note).to_be_hidden()

    # An operator id nobody has is only known to be wrong once the team list is in: dropped then.
    session.goto("/?assignee=987654&status=open")
    note = page.get_by_role("status").filter(has_text="unknown filter")
    expect(note).to_have_text(re.compile(r"Ignored an unknown filter: Assigned to “987654”"))
    expect(page).to_have_url(re.compile(r"/\?status=open$"))
    assert session.watch.server_errors == []


def test_in_portuguese_and_a_refused_filter_shows_the_servers_reason(
    ui: OpenPage, world: World, cast: dict[str, Any]
) -> None:
    session = ui(world.agent, path="/?handler=robot", locale="pt-BR")
    page = session.page
    expect(page.get_by_role("status").filter(has_text="ignorado")).to_have_text(
        re.compile(r"Um filtro desconhecido foi ignorado: Bot ou pessoa “robot”")
    )
    # A search longer than the API takes: its 422 is shown with the server's words, not "can't be combined".
    session.goto("/?q=" + "x" * 201)
    alert = page.locator(".list-pane .error-box[role=alert]")
    expect(alert).to_contain_text("O servidor recusou estes filtros:")
    text = alert.inner_text()
    assert "inbox." not in text and "filters." not in text and "combin" not in text
