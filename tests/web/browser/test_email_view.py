"""E-mail in the operator's timeline: the subject on the message and in the header, and "Show full message" with the
quoted history the display cut and the formatted version rebuilt from an allow-list (no script, no remote image)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from playwright.sync_api import expect

from helpline.channels.actions import channel_config
from helpline.channels.email.adapter import EmailAdapter
from helpline.channels.models import Channel
from helpline.channels.registry import build_adapter
from helpline.conversations.ingest import ingest_events
from helpline.platform.clock import utcnow
from tests.channels.email.conftest import make_email_channel
from tests.web.browser.conftest import OpenPage
from tests.web.browser.world import World

SUBJECT = "Pedido 1234 <b>não</b> chegou"
NEW_TEXT = "Olá, o pedido **1234** não chegou."
QUOTED = "Em 2 de maio, Atendimento escreveu:\n> Seu pedido saiu para entrega."
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
HTML = (
    "<html><head><style>body{background:red}</style><script>alert(1)</script></head><body>"
    "<h1>Pedido 1234</h1><p>Olá, o pedido <b>1234</b> não chegou. <a href='https://shop.example/o/1234'>Ver pedido</a>"
    " <a href='javascript:alert(2)'>clique</a></p>"
    "<img src='https://tracker.example/pixel.gif' alt='pixel'><img src='cid:logo@shop' alt='Logo da loja'>"
    "<p onclick='alert(3)'>&lt;img src=x onerror=alert(4)&gt;</p>"
    "<div class='gmail_quote'><blockquote>Seu pedido saiu para entrega.</blockquote></div></body></html>"
)


def mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Ana Souza <ana.email@example.com>"
    message["To"] = "atendimento@helpline.test"
    message["Subject"] = SUBJECT
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content(f"{NEW_TEXT}\n\n{QUOTED}\n")
    message.add_alternative(HTML, subtype="html")
    html_part = message.get_payload()[1]
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<logo@shop>", filename="logo.png")
    return message.as_bytes()


@pytest.fixture(scope="module")
def mail_conversation(world: World) -> dict[str, Any]:
    runtime = world.server.runtime

    async def receive() -> int:
        settings = {
            "from_address": "atendimento@helpline.test",
            "imap_host": "127.0.0.1",
            "imap_port": 1,
            "imap_security": "none",
            "smtp_host": "127.0.0.1",
            "smtp_port": 1,
            "smtp_security": "none",
            "bot_enabled": False,
        }
        channel: Channel = await make_email_channel(
            runtime,
            settings,
            {"username": "atendimento@helpline.test", "password": "x"},
            member_ids=[world.agent.id],
        )
        adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
        assert isinstance(adapter, EmailAdapter)
        await ingest_events(runtime, channel, adapter.events_from_mail(mail()))
        return channel.id

    channel_id = world.server.call(receive)
    return world.server.until(
        lambda: next(
            iter(world.server.ok(world.admin, "GET", "/conversations", params={"channel_id": channel_id})["items"]),
            None,
        ),
        what="the mail's conversation",
    )


def test_the_subject_shows_and_the_full_message_opens_safely(
    ui: OpenPage, world: World, mail_conversation: dict[str, Any]
) -> None:
    session = ui(world.agent, path=f"/conversations/{mail_conversation['id']}")
    page = session.page
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=2, name="Ana Souza")).to_be_visible()
    # The subject, as text (its "<b>" is characters), in the header and on the message.
    header = page.locator(".conversation-header")
    expect(header.locator(".thread-subject")).to_have_text(f"Subject:{SUBJECT}")
    article = page.get_by_role("feed").get_by_role("article").filter(has_text="o pedido")
    expect(article.locator(".email-subject")).to_have_text(f"Subject:{SUBJECT}")
    expect(article.locator("b")).to_have_count(0)
    # The display shows the new text only; the quoted history waits behind the button.
    expect(article.get_by_text("Seu pedido saiu para entrega.")).to_have_count(0)

    toggle = article.get_by_role("button", name="Show full message")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(article.get_by_role("button", name="Hide full message")).to_have_attribute("aria-expanded", "true")
    expect(article.locator(".email-text")).to_contain_text("> Seu pedido saiu para entrega.")

    article.get_by_role("button", name="Formatted").click()
    html = article.locator(".email-html")
    expect(html).to_contain_text("Seu pedido saiu para entrega.")
    expect(html.locator("strong")).to_have_text(["Pedido 1234"])  # the heading, as bold text
    expect(html.get_by_role("link", name="Ver pedido")).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(html.get_by_role("link")).to_have_count(1)  # the javascript: one is text
    expect(html).to_contain_text("<img src=x onerror=alert(4)>")
    # Remote images stay blocked (and say so); the mail's own inline image shows from its attachment.
    expect(article.get_by_text(re.compile("1 remote image blocked"))).to_be_visible()
    expect(html.locator("img")).to_have_count(1)
    src = html.locator("img").get_attribute("src") or ""
    assert src.startswith("/api/v1/attachments/") or src.startswith(session.base_url + "/api/v1/attachments/")
    attributes = page.evaluate(
        "() => [...document.querySelectorAll('.email-html *')].flatMap((e) => [...e.attributes].map((a) => a.name))"
    )
    assert set(attributes) <= {"href", "target", "rel", "src", "alt", "loading", "width", "height"}, attributes
    assert page.locator("script", has_text="alert").count() == 0

    # Closed again from the keyboard; the state survives the timeline re-rendering (a language switch).
    article.get_by_role("button", name="Hide full message").press("Enter")
    expect(article.locator(".email-full")).to_be_hidden()


def test_the_email_view_in_portuguese_at_phone_width(
    ui: OpenPage, world: World, mail_conversation: dict[str, Any]
) -> None:
    page = ui(
        world.agent,
        path=f"/conversations/{mail_conversation['id']}",
        locale="pt-BR",
        viewport={"width": 375, "height": 740},
    ).page
    article = page.get_by_role("feed").get_by_role("article").filter(has_text="o pedido")
    article.get_by_role("button", name="Mostrar mensagem completa").click()
    article.get_by_role("button", name="Formatado").click()
    expect(article.get_by_text(re.compile("1 imagem remota bloqueada"))).to_be_visible()
    width, inner = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner
