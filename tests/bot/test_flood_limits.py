"""Per-contact limits around the bot: a contact's flood is kept but not answered; a bot reply loop hands over."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from helpline.conversations.models import Conversation, Message
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.bot.conftest import Chat
from tests.conftest import World, make_settings
from tests.conversations.conftest import Line

# Each test's limits: one contact's inbound messages handed to the bot, and bot replies to one contact.
LIMITS = {
    "test_a_contact_over_the_inbound_limit_is_kept_but_not_answered_and_others_are": {
        "inbound_contact_limit": "2/minute",
        "bot_reply_limit": "3/minute",
    },
    "test_a_bot_reply_loop_hands_the_conversation_to_a_person": {
        "inbound_contact_limit": "100/minute",
        "bot_reply_limit": "3/minute",
    },
}


@pytest.fixture
def settings(tmp_path: Path, db_url: str, request: pytest.FixtureRequest) -> Settings:
    return make_settings(tmp_path, db_url, **LIMITS[request.node.originalname])


async def inbound_count(runtime: Runtime, conversation_id: int) -> int:
    async with runtime.db.reads() as session:
        found: int = await session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == conversation_id, Message.direction == "inbound")
        )
    return found


async def asks(chat: Chat, text: str, question: str) -> None:
    """The customer says `text`; the bot answers once, with `question` in it (its wording may grow around it)."""
    replies = await chat(text)
    assert len(replies) == 1 and question in replies[0], replies


async def conversation(runtime: Runtime, conversation_id: int) -> Conversation:
    async with runtime.db.reads() as session:
        found = await session.get(Conversation, conversation_id)
    assert found is not None
    return found


async def test_a_contact_over_the_inbound_limit_is_kept_but_not_answered_and_others_are(
    chat: Chat,
    client: httpx.AsyncClient,
    runtime: Runtime,
    bot_line: Line,
    scripts: dict[str, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await asks(chat, "I want to file an insurance claim", "policy number")
    await asks(chat, "POL-1234", "When did it happen?")
    with caplog.at_level(logging.INFO, logger="helpline.routing"):
        assert await chat("yesterday") == []  # the third message in a minute: over the 2/minute limit
    # Kept and shown to people, never dropped; the bot still holds the conversation (no hand-off for a flood).
    assert await inbound_count(runtime, chat.conversation_id) == 3
    held = await conversation(runtime, chat.conversation_id)
    assert held.handler == "bot" and held.last_message_preview == "yesterday"
    assert any("over the inbound limit" in r.getMessage() for r in caplog.records)
    assert runtime.metrics.rate_limited.labels("inbound-contact")._value.get() == 1

    # Another contact on the same line is not starved.
    other = Chat(client, runtime, bot_line, contact_id="someone-else")
    await asks(other, "I want to file an insurance claim", "policy number")


async def test_a_bot_reply_loop_hands_the_conversation_to_a_person(
    chat: Chat,
    client: httpx.AsyncClient,
    runtime: Runtime,
    world: World,
    scripts: dict[str, dict[str, Any]],
    bot_line: Line,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An auto-responder answering everything: its messages stay under the inbound limit, the bot's replies do not.
    await asks(chat, "I want to file an insurance claim", "policy number")
    await asks(chat, "POL-1234", "When did it happen?")
    await asks(chat, "yesterday", "Which phone number")
    with caplog.at_level(logging.WARNING, logger="helpline.bot"):
        replies = await chat("Thank you for your message, I am out of office")
    assert not any("phone" in reply for reply in replies)
    assert len(replies) == 1  # only the usual hand-off notice, from the system
    handed = await conversation(runtime, chat.conversation_id)
    assert (handed.handler, handed.status) == ("human", "open")
    assert handed.bot_state["escalation"]["reason"] == "reply_limit"
    assert any("bot reply limit" in r.getMessage() for r in caplog.records)
    # Further messages of the loop reach people only.
    assert await chat("Thank you for your message, I am out of office") == []
    api = await client.get(f"/api/v1/conversations/{chat.conversation_id}", headers=world.admin.headers)
    assert api.json()["escalation"]["reason"] == "reply_limit"

    other = Chat(client, runtime, bot_line, contact_id="someone-else")
    await asks(other, "I want to file an insurance claim", "policy number")
