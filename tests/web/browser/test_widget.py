"""The chat widget in a real browser: a plain page on ANOTHER origin embeds the snippet; the visitor talks to the
bot through a script (progress, quick replies), asks for a person, and an operator's reply arrives live."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import bound_socket
from tests.web.browser.conftest import PHONE, OpenPage
from tests.web.browser.world import World

HOSTILE_CSS = """
button { background: rgb(255, 105, 180) !important; font-size: 40px !important; }
div, p, helpline-chat { color: rgb(0, 255, 0) !important; letter-spacing: 5px; }
body { color: rgb(0, 0, 255); letter-spacing: 2px; }
"""


@dataclass
class Site:
    """A customer's website on its own loopback port: another origin than Helpline's."""

    origin: str
    pages: dict[str, str]

    def url(self, name: str) -> str:
        return f"{self.origin}/{name}"


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, format: str, *args: object) -> None:
            return

    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(origin=f"http://127.0.0.1:{port}", pages=pages)
    finally:
        server.shutdown()
        server.server_close()


def embed(site: Site, name: str, base_url: str, channel_id: int, extra: str = "") -> str:
    site.pages[name] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme shop</title>'
        f"<style>{HOSTILE_CSS}</style></head><body><h1>Acme shop</h1><p>Welcome.</p><button>Buy now</button>"
        f'<script src="{base_url}/widget.js" data-channel="{channel_id}" {extra} async></script></body></html>'
    )
    return site.url(name)


def make_widget(world: World, site: Site, **settings: object) -> int:
    created = world.server.ok(
        world.admin,
        "POST",
        "/channels",
        json={
            "kind": "widget",
            "name": f"Acme chat {len(site.pages)}",
            "settings": {"allowed_origins": [site.origin], "title": "Acme help", "theme_color": "#0b6e4f", **settings},
        },
    )
    channel_id: int = created["id"]
    return channel_id


def bubble(page: Page, text: str) -> object:
    return page.locator(".msg", has_text=text)


def test_visitor_talks_to_the_bot_asks_for_a_person_and_gets_a_live_reply(
    ui: OpenPage, world: World, site: Site
) -> None:
    channel_id = make_widget(world, site, bot_enabled=True)
    url = embed(site, "shop.html", world.server.base_url, channel_id)
    # A fresh server builds the bot's matcher on its first question (seconds on a loaded machine): ask it once
    # here, so the browser's waits below measure the widget and not that one-off start.
    world.server.ok(world.admin, "POST", "/bot/try", json={"message": "I want to book an appointment"})
    session = ui(None, path=None)
    page = session.page
    page.goto(url)

    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    # The host page's `button { background: pink !important }` does not reach into the shadow root.
    background = launcher.evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(11, 110, 79)"
    launcher.click()
    dialog = page.get_by_role("dialog", name="Acme help")
    expect(dialog).to_be_visible()
    greeting = page.get_by_text("Hi! How can we help you today?")
    expect(greeting).to_be_visible()
    # Nor do its inherited `color` and `letter-spacing` through the host element.
    assert greeting.evaluate("n => [getComputedStyle(n).color, getComputedStyle(n).letterSpacing]") == [
        "rgb(27, 31, 36)",
        "normal",
    ]

    page.get_by_label("Name").fill("Marta")
    page.get_by_role("button", name="Start chat").click()
    message = page.get_by_role("textbox", name="Message")
    expect(message).to_be_focused()
    message.fill("I want to book an appointment")
    message.press("Enter")

    expect(page.locator(".msg.reply", has_text="Which day suits you?")).to_be_visible()
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-label", "Step 1 of 3")
    message.fill("tomorrow")
    message.press("Enter")

    expect(page.locator(".msg.reply", has_text="Morning or afternoon?")).to_be_visible()
    expect(progress).to_have_attribute("aria-label", "Step 2 of 3")
    quick = page.get_by_role("group", name="Suggested answers")
    expect(quick.get_by_role("button")).to_have_text(["Morning", "Afternoon"])
    quick.get_by_role("button", name="Afternoon").click()

    expect(page.locator(".msg.visitor", has_text="Afternoon")).to_be_visible()
    # The confirmation restates what is booked: tomorrow's date and the period just picked.
    booked = re.compile(r"Shall I book \d{1,2} [A-Z][a-z]+ \d{4}, Afternoon\?")
    expect(page.locator(".msg.reply", has_text=booked)).to_be_visible()
    expect(progress).to_have_attribute("aria-label", "Last step (3 of 3)")

    page.get_by_role("button", name="Talk to a person").click()
    # One notice, the bot's own (kept in the history), and no button for what has just happened.
    notice = page.locator(".msg.reply", has_text="I am passing you to a member of our team now")
    expect(notice).to_be_visible()
    expect(page.get_by_role("button", name="Talk to a person")).to_be_hidden()
    expect(page.locator(".note")).to_have_count(0)
    expect(notice).to_have_count(1)

    conversations = world.server.ok(world.admin, "GET", "/conversations", params={"channel_id": channel_id})
    conversation = conversations["items"][0]
    assert conversation["handler"] == "human" and conversation["contact"]["name"] == "Marta"
    world.server.ok(world.admin, "POST", f"/conversations/{conversation['id']}/typing")
    expect(page.get_by_text("Typing…")).to_be_visible()
    world.server.ok(
        world.admin,
        "POST",
        f"/conversations/{conversation['id']}/messages",
        json={
            "text": "Hello Marta, this is **Bea**. Read [our policy](https://example.com/policy) "
            "or [this](javascript:alert(1)) <img src=x onerror=alert(2)>"
        },
    )
    reply = page.locator(".msg.reply", has_text="Hello Marta")
    expect(reply).to_be_visible()
    expect(reply.locator("strong")).to_have_text("Bea")
    expect(reply.get_by_role("link", name="our policy")).to_have_attribute("href", "https://example.com/policy")
    # A javascript: link and HTML stay text.
    expect(reply.get_by_role("link")).to_have_count(1)
    expect(reply).to_contain_text("[this](javascript:alert(1)) <img src=x onerror=alert(2)>")
    expect(reply.locator("img")).to_have_count(0)
    # The new reply is inside the live region screen readers announce.
    assert page.get_by_role("log").locator(".msg", has_text="Hello Marta").count() == 1

    # The operator hands the chat back to the bot: the button returns.
    world.server.ok(world.admin, "POST", f"/conversations/{conversation['id']}/handback")
    expect(page.get_by_role("button", name="Talk to a person")).to_be_visible()

    # Escape closes the panel and gives focus back to the launcher.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Open chat")).to_be_focused()

    # The visitor comes back later (same browser): the conversation continues where it was.
    page.reload()
    page.get_by_role("button", name="Open chat").click()
    expect(page.locator(".msg.reply", has_text="Hello Marta")).to_be_visible()
    expect(page.locator(".msg.visitor", has_text="I want to book an appointment")).to_be_visible()
    expect(page.get_by_role("button", name="Talk to a person")).to_be_visible()
    session.watch.check()


def test_portuguese_phone_layout_and_a_foreign_site_gets_nothing(ui: OpenPage, world: World, site: Site) -> None:
    channel_id = make_widget(world, site, locale="pt", pre_chat_form="off", position="left")
    url = embed(site, "loja.html", world.server.base_url, channel_id)
    session = ui(None, path=None, viewport=PHONE, locale="pt-BR")
    page = session.page
    page.goto(url)
    page.get_by_role("button", name="Abrir o chat").click()
    dialog = page.get_by_role("dialog", name="Acme help")
    box = dialog.bounding_box()
    assert box is not None and box["width"] == PHONE["width"]  # full screen on a phone
    expect(page.get_by_role("button", name="Fechar o chat").first).to_be_visible()
    expect(page.get_by_role("button", name="Falar com uma pessoa")).to_be_visible()
    message = page.get_by_role("textbox", name="Mensagem")
    message.fill("Olá")
    message.press("Enter")
    expect(page.locator(".msg.visitor", has_text="Olá")).to_be_visible()

    # The same snippet on a site the widget does not allow: the API refuses it and no widget appears.
    other = make_widget(world, site, allowed_origins=["https://elsewhere.example"])
    foreign = ui(None, path=None)
    foreign.watch.allow_console(re.escape("Access-Control-Allow-Origin"))
    failed: list[str] = []
    foreign.page.on("requestfailed", lambda request: failed.append(request.url))
    foreign.page.goto(embed(site, "foreign.html", world.server.base_url, other))
    foreign.page.wait_for_load_state("networkidle")
    expect(foreign.page.get_by_role("button", name="Open chat")).to_have_count(0)
    # The browser blocked the answer (a 403 without CORS headers): the script never learned anything.
    assert [u for u in failed if u.endswith(f"/api/v1/widget/{other}/config")]


def test_the_admin_wizard_connects_a_website_chat_and_shows_the_embed_snippet(
    ui: OpenPage, world: World, site: Site
) -> None:
    session = ui(world.admin, path="/admin/channels/new/kind")
    page = session.page
    page.get_by_role("radio", name=re.compile(r"^Website chat\b")).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name", exact=True).fill("Shop chat")
    page.get_by_role("button", name="Next").click()
    origins = page.get_by_label("Websites allowed to show the chat")
    origins.fill("https://shop.example.com/checkout")
    page.get_by_role("button", name="Create channel").click()
    expect(page.get_by_text("Enter origins like https://www.example.com", exact=False).first).to_be_visible()
    origins.fill(f"{site.origin}, https://shop.example.com")
    page.get_by_label("Theme colour").fill("#aa3300")
    page.get_by_label("Language").select_option("pt")
    page.get_by_role("button", name="Create channel").click()

    expect(page.get_by_role("heading", name=re.compile("Step 4 of 6"))).to_be_visible()
    secret = page.get_by_role("textbox", name="Identity verification secret")
    expect(secret).to_have_value(re.compile(r".{16,}"))
    snippet = page.get_by_role("textbox", name="Embed code")
    expect(snippet).to_have_value(
        re.compile(rf'^<script src="{re.escape(world.server.base_url)}/widget.js" data-channel="\d+" async></script>$')
    )
    channel_id = int(re.search(r'data-channel="(\d+)"', snippet.input_value()).group(1))  # type: ignore[union-attr]
    channel = world.server.ok(world.admin, "GET", f"/channels/{channel_id}")
    assert channel["kind"] == "widget"
    assert channel["settings"]["allowed_origins"] == sorted([site.origin, "https://shop.example.com"])
    assert channel["settings"]["theme_color"] == "#aa3300" and channel["settings"]["locale"] == "pt"
    assert "identity_secret" not in channel["settings"]
    page.get_by_label("I have stored it").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Finish").click()
    expect(page).to_have_url(re.compile(rf"/admin/channels/{channel_id}$"))
    # The channel page shows the origins as typed and the snippet again.
    expect(page.get_by_label("Websites allowed to show the chat")).to_have_value(
        ", ".join(sorted([site.origin, "https://shop.example.com"]))
    )
    expect(page.get_by_role("textbox", name="Embed code")).to_have_value(re.compile(rf'data-channel="{channel_id}"'))
