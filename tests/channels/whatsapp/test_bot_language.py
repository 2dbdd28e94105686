"""The bot on a Portuguese WhatsApp number: short messages that show no language are answered in Portuguese,
and a message of only invisible characters is kept as the customer sent it but read as empty by the bot
(no "I did not understand", nothing counted towards a hand-over)."""

from __future__ import annotations

import httpx
import pytest

from helpline.bot.language import say
from helpline.bot.pipeline import BotFrontLine, install_front_line
from helpline.bot.seeds import load_seeds
from helpline.runtime import Runtime
from tests.bot.conftest import TODAY, KeywordMatcher
from tests.channels.meta_support import MetaWorld, messages_of, meta_world, only_conversation, post_webhook, wa_text
from tests.conftest import drain
from tests.platform.fake_peer import Peer


@pytest.fixture
async def pt_number(runtime: Runtime, client: httpx.AsyncClient, peer: Peer) -> MetaWorld:
    install_front_line(runtime, BotFrontLine(runtime, matcher_factory=KeywordMatcher, today=TODAY))
    async with runtime.db.transaction() as session:
        await load_seeds(session, box=runtime.box)
    peer.default = lambda request: httpx.Response(200, json={"messages": [{"id": "wamid.OUT"}]})
    return await meta_world(runtime, client, "whatsapp", bot_enabled=True, language="pt")


async def _says(client: httpx.AsyncClient, runtime: Runtime, world: MetaWorld, wamid: str, text: str) -> list[str]:
    """The customer writes `text`; the bot's new replies (texts of bot messages after it)."""
    response = await post_webhook(client, wa_text(wamid, text))
    assert response.status_code == 200, response.text
    await drain(runtime)
    conversation = await only_conversation(client, world)
    messages = await messages_of(client, world, conversation["id"])
    mine = max(i for i, m in enumerate(messages) if m["provider_message_id"] == wamid)
    return [m["text"] for m in messages[mine + 1 :] if m["author_kind"] in ("bot", "system") and m["text"]]


# 👍 is read as thanks (small talk, bot/smalltalk.py); the others say nothing the bot can act on.
@pytest.mark.parametrize(
    ("text", "reply"), [("ok", "fallback"), ("?", "fallback"), ("123", "fallback"), ("👍", "thanks")]
)
async def test_short_messages_on_a_portuguese_number_are_answered_in_portuguese(
    client: httpx.AsyncClient, runtime: Runtime, pt_number: MetaWorld, text: str, reply: str
) -> None:
    assert await _says(client, runtime, pt_number, "wamid.A1", text) == [say("pt", reply)]


async def test_an_english_message_on_a_portuguese_number_is_answered_in_english(
    client: httpx.AsyncClient, runtime: Runtime, pt_number: MetaWorld
) -> None:
    [hello] = await _says(client, runtime, pt_number, "wamid.B1", "Hi")
    assert hello.startswith("Hello! I am the virtual assistant.")
    # The conversation is English now: "?" gets English.
    assert await _says(client, runtime, pt_number, "wamid.B2", "?") == [say("en", "fallback")]


async def test_invisible_text_is_stored_but_read_as_empty(
    client: httpx.AsyncClient, runtime: Runtime, pt_number: MetaWorld
) -> None:
    # More of them than the unclear-message limit: none is answered, none hands over.
    for number, text in enumerate(["\u200b", "\u200d\ufeff", " \u2060 ", "\u200b"]):
        assert await _says(client, runtime, pt_number, f"wamid.Z{number}", text) == []
    conversation = await only_conversation(client, pt_number)
    assert conversation["handler"] == "bot"
    stored = [
        m["text"] for m in await messages_of(client, pt_number, conversation["id"]) if m["direction"] == "inbound"
    ]
    assert stored == ["\u200b", "\u200d\ufeff", " \u2060 ", "\u200b"]  # what the customer sent, kept
    # The bot still greets the customer's first real words, in Portuguese, without a hand-over.
    [hello] = await _says(client, runtime, pt_number, "wamid.Z9", "Oi, tudo bem?")
    assert hello.startswith("Olá! Eu sou o assistente virtual.")
