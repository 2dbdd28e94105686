"""The pause: once a human has the conversation the bot sends nothing — new messages, stale jobs, restarts —
until an operator hands it back. Chatwoot #4410, made impossible by construction."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from helpline.bot.pipeline import BotFrontLine, front_line_for
from helpline.conversations.models import Conversation, Message
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.bot.conftest import Chat, bot_messages
from tests.conftest import World, drain
from tests.support import outbox_payloads


async def _conversation(runtime: Runtime, conversation_id: int) -> Conversation:
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation


async def _last_inbound(runtime: Runtime, conversation_id: int) -> int:
    async with runtime.db.sessions() as session:
        return int(
            (
                await session.execute(
                    select(Message.id)
                    .where(Message.conversation_id == conversation_id, Message.direction == "inbound")
                    .order_by(Message.id.desc())
                    .limit(1)
                )
            ).scalar_one()
        )


async def test_asking_for_a_person_escalates_and_pauses(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    await chat("file an insurance claim")
    replies = await chat("Quero falar com um atendente, por favor")
    assert len(replies) == 1 and "equipe" in replies[0]  # told in their language... or the script's
    conversation = await _conversation(runtime, chat.conversation_id)
    assert (conversation.handler, conversation.status) == ("human", "open")
    assert conversation.bot_state["escalation"]["reason"] == "customer_request"

    # Operators got the escalation frame with the reason and the summary, and the webhook event is queued.
    async with runtime.db.sessions() as session:
        rows = list((await session.execute(select(OutboxRow))).scalars())
    frames = [p for p in outbox_payloads(rows, "realtime.publish") if p["type"] == "conversation.escalated"]
    events = [p for p in outbox_payloads(rows, "webhooks.event") if p["event"] == "conversation.escalated"]
    assert not frames and not events  # already published by drain: check the interaction log instead
    log = await client.get(
        f"/api/v1/conversations/{chat.conversation_id}/bot/interactions", headers=world.agent.headers
    )
    escalated = [i for i in log.json() if i["kind"] == "escalated"]
    assert escalated[0]["details"]["reason"] == "customer_request" and escalated[0]["details"]["summary"]

    # While paused: new customer messages get nothing, whatever they say.
    assert await chat("hello? file an insurance claim") == []
    assert await chat("POL-1234") == []

    # A restart (a fresh front line, as after a process restart) and a re-run of the job send nothing either.
    fresh = BotFrontLine(front_line_for(runtime).runtime)
    await fresh.on_inbound(chat.conversation_id, await _last_inbound(runtime, chat.conversation_id))
    assert await chat.new_replies() == []

    # Hand-back resumes the bot.
    response = await client.post(f"/api/v1/conversations/{chat.conversation_id}/handback", headers=world.agent.headers)
    assert response.status_code == 200, response.text
    replies = await chat("I'd like to book an appointment")
    assert replies and "Which time suits you?" in replies[0]


async def test_escalation_frame_names_reason_and_summary(chat: Chat, runtime: Runtime, scripts: dict[str, Any]) -> None:
    await chat.send("I want to speak to a human")
    message_id = await _last_inbound(runtime, chat.conversation_id)
    await front_line_for(runtime).on_inbound(chat.conversation_id, message_id)
    async with runtime.db.sessions() as session:
        rows = list((await session.execute(select(OutboxRow))).scalars())
    frames = [p for p in outbox_payloads(rows, "realtime.publish") if p["type"] == "conversation.escalated"]
    assert len(frames) == 1
    assert frames[0]["data"]["reason"] == "customer_request" and "speak to a human" in frames[0]["data"]["summary"]
    events = [p for p in outbox_payloads(rows, "webhooks.event") if p["event"] == "conversation.escalated"]
    assert len(events) == 1


async def test_routing_job_queued_before_takeover_sends_nothing(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    await chat.send("file an insurance claim")  # the routing job is queued, not yet run
    response = await client.post(f"/api/v1/conversations/{chat.conversation_id}/takeover", headers=world.agent.headers)
    assert response.status_code == 200
    # The stale job runs after the takeover (directly too, as if the routing check had raced).
    await drain(runtime)
    await front_line_for(runtime).on_inbound(chat.conversation_id, await _last_inbound(runtime, chat.conversation_id))
    assert await bot_messages(runtime, chat.conversation_id) == []


async def test_bot_reply_queued_before_takeover_is_not_delivered(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    await chat.send("file an insurance claim")
    # The bot decides and queues its reply; then, before delivery, a human takes over.
    await front_line_for(runtime).on_inbound(chat.conversation_id, await _last_inbound(runtime, chat.conversation_id))
    await client.post(f"/api/v1/conversations/{chat.conversation_id}/takeover", headers=world.agent.headers)
    await drain(runtime)
    [reply] = await bot_messages(runtime, chat.conversation_id)
    assert (reply.delivery_state, reply.error_code) == ("failed", "bot_paused")


async def test_decision_racing_a_takeover_says_nothing(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    """The bot read the state and decided; a takeover commits before it writes: the write is dropped."""
    await chat.send("file an insurance claim")
    bot = front_line_for(runtime)
    original = bot._apply

    async def takeover_then_apply(*args: Any) -> bool:
        await client.post(f"/api/v1/conversations/{chat.conversation_id}/takeover", headers=world.agent.headers)
        return await original(*args)

    bot._apply = takeover_then_apply  # type: ignore[method-assign]
    await bot.on_inbound(chat.conversation_id, await _last_inbound(runtime, chat.conversation_id))
    assert await bot_messages(runtime, chat.conversation_id) == []


async def test_on_inbound_is_idempotent_per_message(chat: Chat, runtime: Runtime, scripts: dict[str, Any]) -> None:
    await chat.send("file an insurance claim")
    message_id = await _last_inbound(runtime, chat.conversation_id)
    bot = front_line_for(runtime)
    await bot.on_inbound(chat.conversation_id, message_id)
    await bot.on_inbound(chat.conversation_id, message_id)  # a retried routing job
    await drain(runtime)  # and the queued one
    assert len(await bot_messages(runtime, chat.conversation_id)) == 1


async def test_vip_tag_escalates_at_once(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    await chat.send("hello")
    await client.patch(
        f"/api/v1/conversations/{chat.conversation_id}", json={"tags": ["VIP"]}, headers=world.supervisor.headers
    )
    await drain(runtime)
    conversation = await _conversation(runtime, chat.conversation_id)
    assert conversation.handler == "human" and conversation.bot_state["escalation"]["reason"] == "tag_rule"
