"""The script runner end to end through the API channel: questions, validation, re-ask, progress, closing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from helpline.conversations.models import Conversation
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.bot.conftest import Chat, bot_view
from tests.conftest import World
from tests.support import outbox_payloads


async def test_script_collects_validated_answers_with_progress(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    replies = await chat("Hi, I need to file an insurance claim")
    assert len(replies) == 1 and "policy number" in replies[0]
    first = (await _messages(runtime, chat))[-1]
    assert first.content["bot"]["kind"] == "question"
    assert (first.content["steps_done"], first.content["steps_total"], first.content["is_final_step"]) == (0, 3, False)

    # A bad answer is re-asked with the step's retry message, and the progress does not move.
    replies = await chat("it's the blue card")
    assert replies == ["Policy numbers look like POL-1234.\nWhat is your policy number?"]
    assert (await _messages(runtime, chat))[-1].content["bot"]["kind"] == "retry"

    assert await chat("sure, it's pol-1234 I think") == ["When did it happen?"]
    assert await chat("it was on 12 May") == ["Which phone number can we call?"]
    last_question = (await _messages(runtime, chat))[-1]
    assert (last_question.content["steps_done"], last_question.content["is_final_step"]) == (2, True)

    assert await chat("my number is +55 11 98765-4321") == ["Thank you, your claim is registered."]
    closing = (await _messages(runtime, chat))[-1]
    assert closing.content["completed"] is True and closing.content["steps_done"] == 3

    bot = await bot_view(client, world, chat.conversation_id)
    # Written the way the pattern's letters are (upper case), whatever the customer typed.
    assert bot["answers"] == {"policy": "POL-1234", "date": "2026-05-12", "phone": "+5511987654321"}
    # The script ends with a case: the conversation is with a person now, the answers at the top of the card.
    assert bot["handler"] == "human" and bot["mode"] == "paused" and bot["script"]["key"] == "claim"
    assert bot["escalation"]["reason"] == "case"
    assert [(f["key"], f["value"]) for f in bot["escalation"]["fields"]] == [
        ("policy", "POL-1234"),
        ("date", "2026-05-12"),
        ("phone", "+5511987654321"),
    ]
    assert bot["escalation"]["fields"][0]["question"] == "What is your policy number?"
    assert bot["method"] == "test-keywords"

    log = await client.get(
        f"/api/v1/conversations/{chat.conversation_id}/bot/interactions", headers=world.agent.headers
    )
    kinds = [i["kind"] for i in log.json()]
    assert {"matched", "script_started", "answer_rejected", "answer_extracted", "script_completed"} <= set(kinds)
    matched = next(i for i in log.json() if i["kind"] == "matched")
    assert matched["details"]["candidates"][0]["key"] == "claim"


async def test_progress_frames_are_published(chat: Chat, runtime: Runtime, scripts: dict[str, Any]) -> None:
    await chat.send("book an appointment")
    async with runtime.db.sessions() as session:
        before = {r.id for r in (await session.execute(select(OutboxRow))).scalars()}
    from helpline.bot.pipeline import front_line_for

    message_id = (await _inbound_ids(runtime, chat))[-1]
    await front_line_for(runtime).on_inbound(chat.conversation_id, message_id)
    async with runtime.db.sessions() as session:
        rows = [r for r in (await session.execute(select(OutboxRow))).scalars() if r.id not in before]
    frames = [p for p in outbox_payloads(rows, "realtime.publish") if p["type"] == "bot.progress"]
    assert frames and frames[0]["data"]["steps_total"] == 2 and frames[0]["data"]["steps_done"] == 0


async def test_choice_and_yes_no_steps(chat: Chat, scripts: dict[str, Any]) -> None:
    replies = await chat("I'd like to book an appointment")
    assert replies[0].endswith("Which time suits you?\n1) Morning\n2) Afternoon")
    assert await chat("the second one") == ["Shall I confirm?"]
    assert await chat("yes please") == ["Booked."]


async def test_max_attempts_escalates_with_reason(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    await chat("file an insurance claim")
    await chat("no idea")
    replies = await chat("still no idea")
    assert len(replies) == 1 and "team" in replies[0]  # the customer is told
    async with runtime.db.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        assert conversation is not None
        assert (conversation.handler, conversation.status) == ("human", "open")
    bot = await bot_view(client, world, chat.conversation_id)
    assert bot["escalation"]["reason"] == "failed_answers" and bot["escalation"]["detail"] == "policy"
    # The same facts as data, for an operator screen in another language.
    assert bot["escalation"]["params"] == {"step": "policy", "step_label": "What is your policy number?"}
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()["items"]
    [row] = [c for c in listing if c["id"] == chat.conversation_id]
    assert row["escalation"]["params"] == bot["escalation"]["params"]
    assert "Insurance claim" in bot["escalation"]["summary"]
    assert bot["mode"] == "paused"


async def _messages(runtime: Runtime, chat: Chat) -> list[Any]:
    from tests.bot.conftest import bot_messages

    return await bot_messages(runtime, chat.conversation_id)


async def _inbound_ids(runtime: Runtime, chat: Chat) -> list[int]:
    from helpline.conversations.models import Message

    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(Message.id)
            .where(Message.conversation_id == chat.conversation_id, Message.direction == "inbound")
            .order_by(Message.id)
        )
        return list(rows.scalars())
