"""Which language the bot answers in: the message's own when it shows one, else the conversation's so far,
else the contact's or the page's locale, the widget's or channel's language, the company default.
Short messages that show no language ("ok", "?", "123", an emoji) on an English widget get English."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from helpline.bot.language import guess_language, say
from helpline.bot.pipeline import fallback_language
from helpline.contacts.models import Contact
from helpline.runtime import Runtime
from tests.bot.conftest import Chat
from tests.channels.widget.support import Widget, make_widget, start
from tests.conftest import World, drain
from tests.conversations.conftest import Line

SHORT = ["ok", "?", "123"]
# Emoji that say thanks (👍, 😀😀) are small talk, answered in the widget's language (not "unclear").
EMOJI_THANKS = ["👍", "😀😀"]


async def visitor_says(
    client: httpx.AsyncClient, runtime: Runtime, widget: Widget, texts: list[str], **extra: Any
) -> list[str]:
    """A new visitor writes `texts` one after the other; the replies they see, in order."""
    visitor = await start(client, widget.id)
    for number, text in enumerate(texts):
        body = {"text": text, "client_id": f"m{number}", **extra}
        response = await client.post(f"{visitor.path}/messages", json=body, headers=visitor.headers)
        assert response.status_code == 201, response.text
        await drain(runtime)
    response = await client.get(f"{visitor.path}/messages", headers=visitor.headers)
    return [m["text"] for m in response.json()["messages"] if m["from"] != "visitor"]


@pytest.mark.parametrize("text", SHORT)
async def test_short_messages_on_an_english_widget_are_answered_in_english(
    client: httpx.AsyncClient, runtime: Runtime, world: World, seeded: None, text: str
) -> None:
    widget = await make_widget(runtime, [world.agent.id], bot_enabled=True, locale="en")
    assert await visitor_says(client, runtime, widget, [text]) == [say("en", "fallback")]


@pytest.mark.parametrize("text", EMOJI_THANKS)
async def test_emoji_thanks_on_an_english_widget_are_answered_in_english(
    client: httpx.AsyncClient, runtime: Runtime, world: World, seeded: None, text: str
) -> None:
    widget = await make_widget(runtime, [world.agent.id], bot_enabled=True, locale="en")
    assert await visitor_says(client, runtime, widget, [text]) == [say("en", "thanks")]


async def test_an_auto_widget_uses_the_language_the_page_showed_the_visitor(
    client: httpx.AsyncClient, runtime: Runtime, world: World, seeded: None
) -> None:
    widget = await make_widget(runtime, [world.agent.id], bot_enabled=True, locale="auto")
    assert await visitor_says(client, runtime, widget, ["?"], locale="pt-BR") == [say("pt", "fallback")]
    assert await visitor_says(client, runtime, widget, ["?"], locale="en-GB") == [say("en", "fallback")]
    assert await visitor_says(client, runtime, widget, ["?"], locale="es-MX") == [say("es", "fallback")]


async def test_the_message_language_wins_then_the_conversation_keeps_it(
    client: httpx.AsyncClient, runtime: Runtime, world: World, seeded: None
) -> None:
    widget = await make_widget(runtime, [world.agent.id], bot_enabled=True, locale="en")
    # Portuguese on an English widget: answered in Portuguese, and "ok" after it stays in Portuguese.
    hello, unclear = await visitor_says(client, runtime, widget, ["Olá, bom dia", "ok"])
    assert hello.startswith("Olá! Eu sou o assistente virtual.")
    assert unclear == say("pt", "fallback")
    # Spanish too: greeting, then an emoji.
    hola, emoji = await visitor_says(client, runtime, widget, ["Hola, buenas tardes", "👍"])
    assert hola.startswith("¡Hola! Soy el asistente virtual.") and emoji == say("es", "thanks")


async def test_the_contact_locale_comes_before_the_company_default(
    client: httpx.AsyncClient, runtime: Runtime, world: World, seeded: None, bot_line: Line
) -> None:
    chat = Chat(client, runtime, bot_line, contact_id="mario")
    # An API channel without a language, a contact who has not said: the company default (en).
    assert await chat("?") == [say("en", "fallback")]
    resolved = await client.post(f"/api/v1/conversations/{chat.conversation_id}/resolve", headers=world.agent.headers)
    assert resolved.status_code == 200, resolved.text
    async with runtime.db.transaction() as session:
        await session.execute(update(Contact).where(Contact.name == "mario").values(attributes={"language": "es-AR"}))
    # The contact's declared locale: the next conversation's "ok" is answered in Spanish.
    chat._seen = 0  # a new conversation: its replies are counted from its start
    assert await chat("ok") == [say("es", "fallback")]
    # Until the customer's own words show another language.
    assert (await chat("Hi"))[0].startswith("Hello! I am the virtual assistant.")


def test_fallback_order() -> None:
    assert fallback_language({"language": "pt-BR"}, {"locale": "en"}, {"language": "es"}, "it") == "pt"
    assert fallback_language({"language": "klingon"}, {"locale": "en"}, {"language": "es"}, "it") == "en"
    assert fallback_language(None, {}, {"language": "es", "locale": "pt"}, "it") == "es"
    assert fallback_language(None, None, {"locale": "pt"}, "it") == "pt"
    assert fallback_language(None, None, {"locale": "auto"}, "it") == "it"
    assert fallback_language({}, {}, {}, "xx") == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ok", None),
        ("?", None),
        ("123", None),
        ("👍", None),
        ("a", None),
        ("Hi", "en"),
        ("thanks!", "en"),
        ("Olá", "pt"),
        ("obrigado", "pt"),
        ("quero participar um sinistro", "pt"),
        ("gracias", "es"),
        ("Hola, buenas tardes", "es"),
        ("vc sabe qd chega meu pedido", "pt"),  # informal spellings
        ("demora mto pra resolver sinistro?", "pt"),
        ("Buongiorno, vorrei parlare con un operatore", "it"),  # "con", "un" are Spanish words too
    ],
)
def test_guess_language(text: str, language: str | None) -> None:
    assert guess_language(text) == language
