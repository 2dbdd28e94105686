"""Two customer messages arriving within a second: each is considered exactly once, oldest first."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from helpline.bot.models import BotInteraction
from helpline.bot.pipeline import BotFrontLine
from helpline.conversations.models import Message
from helpline.runtime import Runtime
from tests.bot.conftest import Chat
from tests.conftest import World, drain


async def _inbound_ids(runtime: Runtime, conversation_id: int) -> list[int]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(Message.id)
            .where(Message.conversation_id == conversation_id, Message.direction == "inbound")
            .order_by(Message.id)
        )
        return list(rows.scalars())


async def _extracted(runtime: Runtime, conversation_id: int) -> list[tuple[int | None, str, Any]]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(BotInteraction)
            .where(BotInteraction.conversation_id == conversation_id, BotInteraction.kind == "answer_extracted")
            .order_by(BotInteraction.id)
        )
        return [(i.message_id, i.details["step"], i.details["value"]) for i in rows.scalars()]


async def test_later_job_first_does_not_skip_the_earlier_message(
    chat: Chat, runtime: Runtime, front_line: BotFrontLine, scripts: dict[str, Any]
) -> None:
    assert (await chat("I need to file an insurance claim"))[-1].endswith("What is your policy number?")
    # Two answers sent within a second; the worker happens to run the second message's job first.
    await chat.send("POL-1234")
    await chat.send("it happened on 12 May")
    _, first, second = await _inbound_ids(runtime, chat.conversation_id)
    await front_line.on_inbound(chat.conversation_id, second)
    await front_line.on_inbound(chat.conversation_id, first)
    await drain(runtime)
    assert await _extracted(runtime, chat.conversation_id) == [
        (first, "policy", "POL-1234"),
        (second, "date", "2026-05-12"),
    ]
    texts = [m.text for m in await chat.new_replies()]
    assert texts == ["When did it happen?", "Which phone number can we call?"]


async def test_concurrent_jobs_consider_each_message_once(
    chat: Chat, runtime: Runtime, front_line: BotFrontLine, scripts: dict[str, Any]
) -> None:
    await chat("I need to file an insurance claim")
    await chat.send("POL-1234")
    await chat.send("12 May")
    await chat.send("+55 11 98765-4321")
    ids = await _inbound_ids(runtime, chat.conversation_id)
    await asyncio.gather(*(front_line.on_inbound(chat.conversation_id, i) for i in reversed(ids[1:])))
    await drain(runtime)
    assert [step for _, step, _ in await _extracted(runtime, chat.conversation_id)] == ["policy", "date", "phone"]
    texts = [m.text for m in await chat.new_replies()]
    assert texts == ["When did it happen?", "Which phone number can we call?", "Thank you, your claim is registered."]


async def test_messages_written_to_a_person_are_not_answered_after_hand_back(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    await chat("I need to file an insurance claim")
    api = f"/api/v1/conversations/{chat.conversation_id}"
    assert (await client.post(f"{api}/takeover", headers=world.agent.headers)).status_code == 200
    await chat.send("POL-1234")  # written to the person, who answers it
    assert (await client.post(f"{api}/handback", headers=world.agent.headers)).status_code == 200
    replies = await chat("12 May")
    # Only the message after the hand-back is the bot's: "12 May" is noted as the answer to a later step (the
    # date, kept until that step comes) and the pending question is asked again; the policy number written to
    # the person is not taken as an answer.
    assert len(replies) == 1
    assert replies[0].startswith("Noted: 12 May ") and replies[0].endswith("\nWhat is your policy number?")
    assert await _extracted(runtime, chat.conversation_id) == []
