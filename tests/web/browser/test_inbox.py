"""The inbox list: live arrivals, filters in the URL, and catching up after the websocket drops."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.inbox import conversation_list, open_filters, pick, reveal, row, shown_ids, wait_connected
from tests.web.browser.world import World


def ids(world: World, **params: Any) -> set[int]:
    page = world.server.ok(world.admin, "GET", "/conversations", params={"limit": 200, **params})
    return {item["id"] for item in page["items"]}


def test_a_customer_message_arrives_live_in_the_list(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    page = ui(world.admin).page
    expect(row(page, "Ana Souza")).to_be_visible()
    wait_connected(page)
    world.customer_says("whatsapp", "Maria Oliveira", "Gostaria de agendar uma vistoria", wait=False)
    arrived = reveal(page, "Maria Oliveira", count=1)
    expect(arrived).to_have_accessible_name(re.compile(r"WhatsApp"))
    # A message in a conversation already listed updates its row in place, without a reload.
    before = row(page, "Noah Davis").get_attribute("aria-label") or ""
    world.customer_says("api", "Noah Davis", "And on Sunday?")
    expect(row(page, "Noah Davis")).not_to_have_accessible_name(before)
    expect(row(page, "Noah Davis")).to_have_accessible_name(re.compile(r"Sunday|Bot: "))
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1, "never reloaded"


def test_filter_by_channel_kind_and_by_event_lives_in_the_url(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    session = ui(world.admin)
    page = session.page
    expect(row(page, "Ana Souza")).to_be_visible()
    everything = ids(world)
    expect(conversation_list(page).get_by_role("option")).to_have_count(len(everything))

    open_filters(page).get_by_role("group", name="Channel kind").get_by_role("checkbox", name="WhatsApp").check()
    expect(page).to_have_url(re.compile(r"[?&]kind=whatsapp\b"))
    whatsapp = ids(world, channel_kind="whatsapp")
    assert whatsapp and whatsapp < everything
    expect(conversation_list(page).get_by_role("option")).to_have_count(len(whatsapp))
    assert shown_ids(page) == whatsapp
    expect(row(page, "Noah Davis")).to_have_count(0)

    pick(page, "Event", "Home Expo")
    event_id = world.events["Home Expo"]
    expect(page).to_have_url(re.compile(rf"[?&]event={event_id}\b"))
    expect(page).to_have_url(re.compile(r"[?&]kind=whatsapp\b"))
    both = ids(world, channel_kind="whatsapp", event_id=event_id)
    assert both == {cast["emma"]["id"]}
    expect(conversation_list(page).get_by_role("option")).to_have_count(1)
    expect(row(page, "Emma Wilson")).to_be_visible()

    # The URL is the view: opening it fresh (a bookmark, a shared link) shows the same list.
    bookmark = page.url
    other = ui(world.admin, path=None)
    other.page.goto(bookmark)
    expect(row(other.page, "Emma Wilson")).to_be_visible()
    expect(conversation_list(other.page).get_by_role("option")).to_have_count(1)


# Chromium's offline emulation refuses new connections but leaves an open WebSocket alone, so the test also kills
# the page's socket the way a dead network does (an abnormal close), through a wrapper installed before the app runs.
TRACK_SOCKETS = """
window.__sockets = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


def test_the_websocket_drops_and_the_page_catches_up(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    session = ui(world.admin, path=None)
    page = session.page
    page.add_init_script(TRACK_SOCKETS)
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    session.goto("/")
    expect(row(page, "Ana Souza")).to_be_visible()
    wait_connected(page)

    # The network goes away and the socket with it: the page says so.
    session.context.set_offline(True)
    session.watch.allow_console(r"^WebSocket connection to .* failed: .*ERR_INTERNET_DISCONNECTED")
    page.evaluate("() => window.__sockets.forEach((s) => s.close(4000, 'network lost'))")
    expect(page.get_by_role("status").filter(has_text=re.compile("Offline|Reconnecting"))).to_be_visible()
    world.customer_says("whatsapp", "Sofía García", "Hola, quiero reportar un siniestro")
    world.customer_says("whatsapp", "Ana Souza", "Minha apólice é AUT-2291-7")
    page.wait_for_timeout(300)
    expect(row(page, "Sofía García")).to_have_count(0)

    session.context.set_offline(False)
    wait_connected(page)
    reveal(page, "Sofía García")
    expect(row(page, "Ana Souza")).to_have_accessible_name(re.compile(r"AUT-2291-7|Bot: "))
    expect(page.get_by_role("status").filter(has_text="Back online")).to_be_visible()
    assert sockets and "last_event_id=" in sockets[-1], sockets
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1, "never reloaded"


def test_a_short_offline_spell_that_the_socket_survives_ends_back_online(
    ui: OpenPage, world: World, cast: dict[str, Any]
) -> None:
    session = ui(world.admin)
    page = session.page
    expect(row(page, "Ana Souza")).to_be_visible()
    wait_connected(page)
    session.context.set_offline(True)  # Chromium keeps an open WebSocket through offline emulation
    expect(page.get_by_role("status").filter(has_text="Offline")).to_be_visible()
    session.context.set_offline(False)
    wait_connected(page)
    expect(page.get_by_role("status").filter(has_text="Back online")).to_be_visible()
    world.customer_says("whatsapp", "Mateo López", "Quiero hablar con una persona", wait=False)
    reveal(page, "Mateo López")
