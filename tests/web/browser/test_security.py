"""Security in the browser: customer strings render as text, the CSP holds, an agent sees only their channels."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import WebSocket, expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.inbox import reveal
from tests.web.browser.world import World

XSS_NAME = "<img src=x onerror=alert('name')>"
XSS_TEXT = "<script>alert('text')</script><b>bold</b> & done"
# Quotes and path separators are dropped from file names when stored (attachments.actions.safe_filename); the rest
# must reach the screen as typed.
XSS_FILE = "<svg onload=alert('file')>.pdf"


def test_hostile_name_message_and_file_name_render_as_text(ui: OpenPage, world: World) -> None:
    media = world.server.sandbox.add_media(b"%PDF-1.4 hostile", "application/pdf", XSS_FILE)
    conversation = world.customer_says(
        "whatsapp",
        XSS_NAME,
        XSS_TEXT,
        type="document",
        document={"id": media.id, "mime_type": "application/pdf", "filename": XSS_FILE, "caption": XSS_TEXT},
    )
    session = ui(world.admin)
    page = session.page
    row = page.get_by_role("option", name=re.compile(re.escape(XSS_NAME)))
    expect(row).to_be_visible()
    expect(row.get_by_text(XSS_NAME, exact=True)).to_be_visible()
    row.click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conversation['id']}\b"))
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name=XSS_NAME)).to_be_visible()
    expect(main.get_by_text(XSS_TEXT, exact=True).first).to_be_visible()
    expect(main.get_by_role("link", name=XSS_FILE)).to_be_visible()
    # Nothing of it became markup: no element the payloads would have created, and no dialog (the Watch checks).
    assert page.locator("img[src='x'], svg[onload], script:not([src]), main b").count() == 0
    page.wait_for_timeout(300)  # an onerror handler fires asynchronously; give it the chance to betray itself
    assert session.watch.dialogs == []


def test_csp_listener_sees_a_violation_and_the_app_causes_none(ui: OpenPage, world: World) -> None:
    session = ui(world.admin)
    page = session.page
    expect(page.get_by_role("listbox")).to_be_visible()
    for path in ("/preferences", "/admin", "/"):
        session.goto(path)
        expect(page.get_by_role("main")).to_be_visible()
        page.wait_for_load_state("networkidle")
    assert session.watch.csp_violations == []
    # The listener works: an inline script is refused by the header's policy and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = 1'; document.body.append(s); }"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.ran") is None
    assert any("script-src" in v for v in session.watch.csp_violations), session.watch.csp_violations
    session.watch.csp_violations.clear()
    session.watch.console_errors.clear()  # Chromium also logs the refusal


def test_an_agent_never_sees_another_channels_conversation(
    ui: OpenPage, world: World, cast: dict[str, dict[str, Any]]
) -> None:
    session = ui(world.agent, path=None)
    page = session.page
    frames: list[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on(
            "framereceived", lambda payload: frames.append(payload if isinstance(payload, str) else payload.decode())
        )

    page.on("websocket", on_socket)
    session.goto("/")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option", name=re.compile("Ana Souza"))).to_be_visible()
    expect(listbox.get_by_role("option", name=re.compile("Noah Davis"))).to_be_visible()
    # In the list: Messenger and Instagram belong to others (their contacts show as page-scoped ids or names).
    for other in ("chloe", "giulia"):
        expect(listbox.locator(f"#row-{cast[other]['id']}")).to_have_count(0)
    mine = {c["id"] for c in world.server.ok(world.agent, "GET", "/conversations", params={"limit": 200})["items"]}
    assert cast["chloe"]["id"] not in mine and cast["ana"]["id"] in mine
    expect(listbox.get_by_role("option")).to_have_count(len(mine))
    shown = {int(i) for i in listbox.get_by_role("option").evaluate_all("rows => rows.map((r) => r.dataset.id)")}
    assert shown == mine

    # Live: someone writes on Messenger, then on WhatsApp; the WhatsApp one arrives, the Messenger one never does.
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    hidden_text = "Je veux parler à un conseiller, s'il vous plaît"
    hidden = world.customer_says("messenger", "Pierre Durand", hidden_text)
    world.customer_says("whatsapp", "Lucas Lima", "Quero cancelar minha apólice")
    reveal(page, "Lucas Lima", count=1)  # if the pill holds it back, it counts Lucas alone
    expect(page.get_by_text(hidden_text)).to_have_count(0)
    expect(listbox.locator(f"#row-{hidden['id']}")).to_have_count(0)
    # Over the socket too: the frames (decoded, so escapes do not hide anything) name Lucas and never the other one.
    received = json.dumps([json.loads(f) for f in frames], ensure_ascii=False)
    assert "Lucas Lima" in received
    # Nameless on Messenger: the page-scoped id is what would identify them.
    assert "conseiller" not in received and world.user_id("messenger", "Pierre Durand") not in received
    assert '"messenger"' not in received, "no frame about a Messenger conversation reached the agent"

    # By URL: the Messenger conversation's page says it is not there, and shows nothing of it.
    session.goto(f"/conversations/{cast['chloe']['id']}")
    expect(page.get_by_text("This conversation doesn't exist or isn't in your channels.")).to_be_visible()
    expect(page.get_by_text("je voudrais déclarer", exact=False)).to_have_count(0)
    expect(page.get_by_role("heading", name=f"Messenger user #{cast['chloe']['contact']['id']}")).to_have_count(0)
    expect(page.get_by_text(world.user_id("messenger", "Chloé Martin"))).to_have_count(0)
    assert any(
        f"/conversations/{cast['chloe']['id']}" in e and e.startswith("404") for e in session.watch.client_errors
    )
