"""What the inbox shows of an escalation: the conversation waits for a human with the reason, the language
the bot detected, and an "escalated" event after the customer's notice; an operator's answer ends the wait."""

from __future__ import annotations

from typing import Any

import httpx

from tests.bot.conftest import Chat
from tests.conftest import World

API = "/api/v1/conversations"


async def test_escalation_is_shown_on_the_conversation_and_in_the_timeline(
    chat: Chat, client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    headers = world.agent.headers
    await chat("where is my order?")
    bot_handled = (await client.get(f"{API}/{(chat.conversation_id)}", headers=headers)).json()
    assert (bot_handled["handler"], bot_handled["waiting_since"], bot_handled["escalation"]) == ("bot", None, None)
    assert bot_handled["last_message"]["author_kind"] == "bot"
    assert bot_handled["last_message"]["author_name"] is None

    replies = await chat("Quero falar com um atendente, por favor")
    assert len(replies) == 1  # the notice to the customer; the event is not a reply
    conversation = (await client.get(f"{API}/{chat.conversation_id}", headers=headers)).json()
    assert conversation["handler"] == "human"
    assert conversation["escalation"]["reason"] == "customer_request"
    assert conversation["escalation"]["detail"] is None
    assert conversation["escalation"]["at"] is not None
    assert conversation["language"] == "pt"
    # The customer's unanswered request started the wait, not the bot's notice.
    assert conversation["waiting_since"] == conversation["last_inbound_at"]
    waiting = (await client.get(API, params={"waiting": "true", "sort": "waiting"}, headers=headers)).json()
    assert [c["id"] for c in waiting["items"]] == [chat.conversation_id]

    items = (await client.get(f"{API}/{chat.conversation_id}/messages", headers=headers)).json()["items"]
    tail = [(m["author_kind"], m["content_type"]) for m in items[-2:]]
    assert tail == [("system", "text"), ("system", "event")]
    # The notice went to delivery (this test channel has no callback, so it failed there); the event did not.
    assert (items[-2]["delivery_state"], items[-1]["delivery_state"]) == ("failed", "internal")
    assert items[-2]["content"]["bot"] == {"kind": "handoff", "reason": "customer_request"}
    assert items[-1]["content"] == {"event": "escalated", "actor": None, "reason": "customer_request", "detail": None}

    answer = await client.post(
        f"{API}/{chat.conversation_id}/messages", json={"text": "Olá, sou a Carla"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    answered = (await client.get(f"{API}/{chat.conversation_id}", headers=headers)).json()
    assert answered["waiting_since"] is None
    assert answered["escalation"]["reason"] == "customer_request"  # still why a person has it

    # Handed back, the escalation is history: not shown, not waiting.
    assert (await client.post(f"{API}/{chat.conversation_id}/handback", headers=headers)).status_code == 200
    handed = (await client.get(f"{API}/{chat.conversation_id}", headers=headers)).json()
    assert (handed["escalation"], handed["waiting_since"]) == (None, None)
