"""A bot answer the channel's provider would refuse hands the conversation to a person, with the usual notice."""

from __future__ import annotations

import httpx
import pytest

from helpline.channels.generic.adapter import GenericApiAdapter
from helpline.channels.limits import SendLimits
from helpline.conversations.models import Conversation
from helpline.runtime import Runtime
from tests.bot.conftest import Chat, create_script
from tests.conftest import World

QUESTION = "Which serial number is printed on the label under the battery cover? " * 3
WARRANTY = {
    "key": "warranty",
    "name": "Warranty repair",
    "examples": ["warranty repair request", "broken product under warranty"],
    "steps": [{"key": "serial", "question": QUESTION.strip(), "type": "number"}],
    "closing_message": "Thanks.",
}


async def test_a_bot_reply_over_the_text_limit_escalates_instead_of_failing(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_script(client, world, WARRANTY)
    # The script's first question is ~210 characters; a provider taking 120 refuses it (the notice fits).
    monkeypatch.setattr(GenericApiAdapter, "limits", SendLimits(provider="Tiny", max_text_length=120))
    replies = await chat("warranty repair request")
    assert len(replies) == 1 and "serial number" not in replies[0]  # only the hand-off notice went out
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        assert conversation is not None
        escalation = conversation.bot_state["escalation"]
    assert (conversation.handler, conversation.status) == ("human", "open")
    assert escalation["reason"] == "technical_error"
    assert escalation["detail"].startswith("Tiny accepts at most 120 characters")
