"""The inbox frame in the browser: keyboard, presets, filters in the URL and as chips, saved views, the command
palette and the shortcut sheet, the windowed list at 10,000 conversations, language switch in place, empty states."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.web.browser.conftest import OpenPage
from tests.web.browser.inbox import conversation_list, fake_conversation_pages, row
from tests.web.browser.server import Operator
from tests.web.browser.world import World


def test_keys_move_through_the_list_and_switch_views(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    page = ui(world.admin).page
    listbox = conversation_list(page)
    expect(listbox.get_by_role("option").first).to_be_visible()
    listbox.focus()
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(r"/conversations/\d+$"))
    first = page.url
    expect(listbox.get_by_role("option", selected=True)).to_have_count(1)
    page.keyboard.press("j")
    expect(page).not_to_have_url(first)
    page.keyboard.press("k")
    expect(page).to_have_url(first)
    # Presets 1 to 7 in sidebar order; the view lives in the URL, next to the open conversation.
    page.keyboard.press("3")
    expect(page).to_have_url(re.compile(r"/conversations/\d+\?view=waiting$"))
    views = page.get_by_role("navigation", name="Views and filters")
    expect(views.get_by_role("link", name=re.compile("^Waiting for a human"))).to_have_attribute("aria-current", "page")
    page.keyboard.press("1")
    expect(page).to_have_url(re.compile(r"/conversations/\d+$"))
    # "/" goes to the search box; Esc brings focus back to the list.
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search conversations")).to_be_focused()
    page.keyboard.press("Escape")
    expect(listbox).to_be_focused()


def test_shortcut_sheet_and_palette_read_one_registry(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    page = ui(world.admin).page
    listbox = conversation_list(page)
    expect(listbox.get_by_role("option").first).to_be_visible()
    listbox.focus()
    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet).to_be_visible()
    for label in ("Next conversation", "Previous conversation", "Search conversations", "Command palette"):
        expect(sheet.get_by_text(label, exact=True)).to_be_visible()
    expect(sheet.get_by_role("heading", name="Views")).to_be_visible()
    page.keyboard.press("j")  # the dialog owns the keyboard: nothing moves behind it
    expect(page).not_to_have_url(re.compile(r"/conversations/"))
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(listbox).to_be_focused()

    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    expect(palette).to_be_visible()
    page.keyboard.type("Emma")
    option = palette.get_by_role("option", name=re.compile("Emma Wilson"))
    expect(option.first).to_be_visible()
    option.first.click()
    expect(page).to_have_url(re.compile(rf"/conversations/{cast['emma']['id']}$"))
    # Actions are there too: a view by name.
    page.keyboard.press("Control+k")
    page.keyboard.type("bot handling")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?view=bot$"))


def test_filters_live_in_the_url_and_as_removable_chips(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    page = ui(world.admin, viewport={"width": 1440, "height": 900}).page
    expect(row(page, "Noah Davis")).to_be_visible()
    page.get_by_role("checkbox", name="WhatsApp").check()
    expect(page).to_have_url(re.compile(r"\?kind=whatsapp$"))
    expect(row(page, "Ana Souza").first).to_be_visible()
    expect(row(page, "Noah Davis")).to_have_count(0)
    chip = page.get_by_role("button", name="Remove filter Channel kind: WhatsApp")
    expect(chip).to_be_visible()
    # The event picker: type-ahead, Enter picks.
    page.locator("#filter-event").click()
    page.keyboard.type("home")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"kind=whatsapp&event=\d+|event=\d+&kind=whatsapp"))
    expect(row(page, "Emma Wilson")).to_be_visible()
    expect(row(page, "Ana Souza")).to_have_count(0)
    page.get_by_role("button", name=re.compile("^Remove filter Event")).click()
    chip.click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(row(page, "Noah Davis")).to_be_visible()
    # Nothing matches: the empty state says so and offers to clear.
    session_url = "/?kind=email&status=snoozed"
    page.goto(page.url.rstrip("/") + session_url)
    expect(page.get_by_text("No conversations match these filters.")).to_be_visible()
    page.get_by_role("button", name="Clear filters").first.click()
    expect(row(page, "Noah Davis")).to_be_visible()


def test_a_saved_view_joins_the_presets_and_its_number_key(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    supervisor = world.operators["supervisor"]
    page = ui(supervisor, viewport={"width": 1440, "height": 900}, path="/?kind=api").page
    expect(row(page, "Noah Davis")).to_be_visible()
    page.get_by_role("button", name="Save view…").click()
    page.get_by_label("Name of the view").fill("API <b>só</b>")
    page.keyboard.press("Enter")
    views = page.get_by_role("navigation", name="Views and filters")
    saved = views.get_by_role("link", name="API <b>só</b>")
    expect(saved).to_have_attribute("aria-current", "page")
    # Kept in the operator's preferences on the server (the sidebar shows it before the PUT has answered).
    expected = [{"name": "API <b>só</b>", "query": "kind=api"}]
    world.server.until(
        lambda: world.server.ok(supervisor, "GET", "/auth/me/preferences")["saved_views"] == expected,
        what="the saved view to reach the server",
    )
    conversation_list(page).focus()
    page.keyboard.press("1")
    expect(page).to_have_url(re.compile(r"/$"))
    page.keyboard.press("8")
    expect(page).to_have_url(re.compile(r"/\?kind=api$"))


def test_language_switch_relabels_in_place(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    page = ui(world.admin, path=f"/conversations/{cast['noah']['id']}?kind=api").page
    selected = conversation_list(page).get_by_role("option", selected=True)
    expect(selected).to_have_accessible_name(re.compile(r"^Noah Davis,"))
    page.keyboard.press("Control+k")
    page.keyboard.type("Português")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(page.get_by_role("listbox", name="Conversas")).to_be_visible()
    expect(page.get_by_role("navigation", name="Visualizações e filtros")).to_be_visible()
    # Same URL, same selection, same filters: nothing was reloaded.
    expect(page).to_have_url(re.compile(rf"/conversations/{cast['noah']['id']}\?kind=api$"))
    expect(page.get_by_role("listbox", name="Conversas").get_by_role("option", selected=True)).to_have_accessible_name(
        re.compile(r"^Noah Davis, API,")
    )
    expect(page.get_by_role("button", name="Remover o filtro Tipo de canal: API")).to_be_visible()
    page.keyboard.press("Control+k")
    page.keyboard.type("English")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_an_agent_without_channels_is_told_whom_to_ask(ui: OpenPage, world: World) -> None:
    created = world.server.ok(
        world.admin,
        "POST",
        "/operators",
        json={"email": "lonely@helpline.test", "name": "Lonely Agent", "password": PASSWORD, "role": "agent"},
    )
    token = world.server.login("lonely@helpline.test")
    lonely = Operator(id=created["id"], email="lonely@helpline.test", name="Lonely Agent", role="agent", token=token)
    page = ui(lonely).page
    expect(
        page.get_by_text(re.compile(r"You are not a member of any channel yet — ask an admin \(.*Ada Admin.*\)"))
    ).to_be_visible()


def test_ten_thousand_conversations_keep_the_dom_small(ui: OpenPage, world: World) -> None:
    total = 10_000
    session = ui(world.admin, path=None)
    page = session.page
    page.route(re.compile(r".*/api/v1/conversations\?.*"), fake_conversation_pages(total))
    session.goto("/")
    listbox = conversation_list(page)
    expect(row(page, "Customer 0")).to_be_visible()
    page.evaluate("""() => { window.__rows = 0; const v = document.getElementById('conversation-list');
      new MutationObserver(() => {
        window.__rows = Math.max(window.__rows, v.querySelectorAll('[role=option]').length);
      })
        .observe(v, { childList: true, subtree: true }); }""")
    # Scroll until every page has loaded (the cursor API, 50 at a time).
    page.wait_for_function(
        """() => { const v = document.getElementById('conversation-list'); v.scrollTop = v.scrollHeight;
          return v.querySelector('.list-spacer').offsetHeight >= 10000 * 76; }""",
        polling=50,
        timeout=120_000,
    )
    expect(listbox.get_by_role("option", name=re.compile(r"^Customer 9999,"))).to_be_visible()
    assert page.evaluate("window.__rows") <= 60
    assert listbox.get_by_role("option").count() <= 60
    expect(listbox.get_by_role("option").last).to_have_attribute("aria-setsize", "10000")
    # The accessible name is one sentence of the row's parts.
    name = listbox.get_by_role("option", name=re.compile(r"^Customer 9992,")).get_attribute("aria-label") or ""
    assert re.match(
        r"^Customer 9992, WhatsApp, 2 unread, waiting for a human: Asked for a person, window closes in \d hours?,",
        name,
    ), name
    assert page.evaluate("performance.getEntriesByName('helpline:list-scroll').length") > 0


NOTIFICATION_SPY = """
window.__notifications = [];
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) { super(title, options); window.__notifications.push([title, options && options.tag]); }
};
Object.defineProperty(window.Notification, 'permission', { get: () => 'granted' });
"""


def test_a_hand_off_notifies_once_and_is_announced(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    supervisor = world.operators["supervisor"]
    preferences = world.server.ok(supervisor, "GET", "/auth/me/preferences")
    world.server.ok(supervisor, "PUT", "/auth/me/preferences", json={**preferences, "notifications": True})
    session = ui(supervisor, path=None)
    session.context.grant_permissions(["notifications"], origin=session.base_url)
    session.context.add_init_script(NOTIFICATION_SPY)
    page = session.goto("/")
    expect(row(page, "Noah Davis")).to_be_visible()
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    page.mouse.move(1200, 600)  # the pointer rests on the conversation pane, not the list
    conversation = world.customer_says("api", "Helena Costa", "Quero falar com um atendente, por favor")
    world.server.until(
        lambda: world.server.ok(supervisor, "GET", f"/conversations/{conversation['id']}")["waiting_since"],
        what="the bot to hand Helena's conversation over",
    )
    page.wait_for_function("() => window.__notifications.length > 0")
    assert page.evaluate("window.__notifications") == [
        ["Helena Costa is waiting for a person", f"conversation-{conversation['id']}"]
    ]
    expect(page.get_by_text("New hand-off: Helena Costa, API")).to_be_attached()
    expect(page).to_have_title(re.compile(r"^\(\d+\) Inbox · Helpline$"))


def test_the_list_is_resized_by_keyboard_between_its_limits(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    page = ui(world.admin, viewport={"width": 1440, "height": 900}).page
    handle = page.get_by_role("separator", name="Resize the conversation list")
    expect(handle).to_have_attribute("aria-valuenow", "360")
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuenow", "392")
    assert page.locator(".list-pane").bounding_box()["width"] == 392  # type: ignore[index]
    page.keyboard.press("End")
    expect(handle).to_have_attribute("aria-valuenow", "480")
    page.keyboard.press("Home")
    expect(handle).to_have_attribute("aria-valuenow", "320")
