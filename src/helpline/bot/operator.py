"""What operators do with the bot on one conversation: read its state and log, choose or stop a script,
get suggested replies."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.bot import runner, runs
from helpline.bot.engine import Snapshot
from helpline.bot.handoff import log_interaction
from helpline.bot.models import BotInteraction, Script
from helpline.bot.pipeline import BotFrontLine, load_entry
from helpline.bot.runner import Outcome
from helpline.bot.schemas import (
    BotStatePublic,
    Candidate,
    InteractionPublic,
    Progress,
    ScriptRunPublic,
    Suggestion,
)
from helpline.conversations.actions import BOT, send_reply
from helpline.conversations.events import conversation_changed
from helpline.conversations.models import Conversation, Direction, Handler, Message, Status
from helpline.platform.clock import utcnow
from helpline.platform.errors import Conflict, NotFound
from helpline.platform.storage import BlobStore


def _progress(state: dict[str, Any], steps_total: int | None) -> Progress | None:
    if steps_total is None:
        return None
    done = steps_total if state.get("mode") == "done" else int(state.get("step", 0))
    return Progress(steps_done=done, steps_total=steps_total, is_final_step=done >= steps_total - 1)


async def bot_state(session: AsyncSession, conversation: Conversation, snapshot: Snapshot) -> BotStatePublic:
    """`snapshot` is fetched before the session opens: on SQLite a second session inside one would wait on it."""
    state: dict[str, Any] = conversation.bot_state or {}
    script = state.get("script")
    steps_total = None
    if script and state.get("mode") in ("script", "done", "paused"):
        entry = await load_entry(session, int(script["id"]), int(script["version"]))
        steps_total = len(entry.definition.steps) if entry else None
    candidates = state.get("candidates")
    if candidates is None:
        # Never matched (e.g. a human-first channel): rank the customer's first message now, for the operator.
        first = (
            await session.execute(
                select(Message.text)
                .where(Message.conversation_id == conversation.id, Message.direction == Direction.inbound.value)
                .order_by(Message.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        candidates = []
        if first and snapshot.matcher is not None:
            candidates = [
                {"script_id": e.id, "key": k, "name": e.name, "confidence": round(float(c), 4)}
                for k, c in snapshot.matcher.rank(first, 3)
                if (e := snapshot.scripts.get(k)) is not None
            ]
    return BotStatePublic(
        conversation_id=conversation.id,
        handler=conversation.handler,
        mode=str(state.get("mode", "idle")),
        script=script,
        progress=_progress(state, steps_total) if script and state.get("mode") in ("script", "done") else None,
        answers=dict(state.get("answers") or {}),
        candidates=[Candidate.model_validate(c) for c in candidates],
        escalation=state.get("escalation"),
        method=snapshot.method,
        runs=[ScriptRunPublic.model_validate(r) for r in await runs.conversation_runs(session, [conversation.id])],
    )


async def interactions(session: AsyncSession, conversation_id: int, limit: int = 200) -> list[InteractionPublic]:
    rows = await session.execute(
        select(BotInteraction)
        .where(BotInteraction.conversation_id == conversation_id)
        .order_by(BotInteraction.id.desc())
        .limit(limit)
    )
    return [InteractionPublic.model_validate(r) for r in reversed(list(rows.scalars()))]


async def _locked(session: AsyncSession, conversation_id: int) -> Conversation:
    conversation = (
        await session.execute(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
    ).scalar_one_or_none()
    if conversation is None:
        raise NotFound("no such conversation")
    return conversation


async def choose_script(
    session: AsyncSession, conversation_id: int, script_id: int, *, operator_id: int, blobs: BlobStore
) -> Conversation:
    """Start (or restart, or switch to) a script for the customer: the bot takes the conversation back and
    asks the first question of the script's current version."""
    conversation = await _locked(session, conversation_id)
    if conversation.status == Status.resolved.value:
        raise Conflict("reopen the conversation before starting a script")
    script = await session.get(Script, script_id)
    entry = await load_entry(session, script_id, script.current_version) if script else None
    if entry is None:
        raise NotFound("no such script")
    state = copy.deepcopy(conversation.bot_state or {})
    previous = state.get("script")
    outcome = Outcome(state=state)
    runner.start(outcome, entry, lang=str(state.get("lang") or "en"), how="operator")
    state["rev"] = int(state.get("rev", 0)) + 1
    state.pop("escalation", None)
    # The script starts now: what the customer wrote before (to a person) is not an answer to its questions.
    latest = await session.execute(
        select(func.max(Message.id)).where(
            Message.conversation_id == conversation.id, Message.direction == Direction.inbound.value
        )
    )
    state["last_message_id"] = max(int(state.get("last_message_id", 0)), int(latest.scalar_one() or 0))
    await runs.sync(session, conversation.id, conversation.bot_state or {}, state, outcome.log, escalated=False)
    conversation.handler = Handler.bot.value
    conversation.status = Status.pending.value
    conversation.last_activity_at = utcnow()
    conversation.bot_state = state
    record(
        session,
        operator_id=operator_id,
        action="bot.script_chosen",
        target_type="conversation",
        target_id=conversation.id,
        details={"script_id": script_id, "version": entry.version, "previous": previous},
    )
    for reply in outcome.replies:
        await send_reply(
            session, conversation_id=conversation.id, author=BOT, text=reply.text, content=reply.content, blobs=blobs
        )
    for kind, details in outcome.log:
        log_interaction(session, conversation.id, kind, {**details, "operator_id": operator_id})
    await conversation_changed(session, conversation)
    return conversation


async def stop_script(session: AsyncSession, conversation_id: int, *, operator_id: int) -> Conversation:
    conversation = await _locked(session, conversation_id)
    state = copy.deepcopy(conversation.bot_state or {})
    if state.get("mode") in ("script", "clarifying"):
        state.update(mode="idle", clarify=None, rev=int(state.get("rev", 0)) + 1)
        conversation.bot_state = state
        log_interaction(session, conversation.id, "script_stopped", {"operator_id": operator_id})
    return conversation


async def suggestions(
    session: AsyncSession, conversation_id: int, front_line: BotFrontLine, snapshot: Snapshot
) -> list[Suggestion]:
    """Replies an operator can insert: from the LLM when configured, else the best articles' answers."""
    rows = await session.execute(
        select(Message.direction, Message.text)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(12)
    )
    transcript = [(d, t) for d, t in reversed(list(rows.all())) if t]
    last_customer = next((t for d, t in reversed(transcript) if d == Direction.inbound.value), "")
    hits = snapshot.retriever.search(last_customer, k=3)
    result: list[Suggestion] = []
    if front_line.llm is not None and transcript:
        lines = "\n".join(f"{'customer' if d == 'inbound' else 'us'}: {t}" for d, t in transcript)
        result = [
            Suggestion(text=t, source="llm") for t in await front_line.llm.suggestions(lines, [h.article for h in hits])
        ]
    if not result:
        threshold = front_line.runtime.settings.bot_article_threshold
        result = [
            Suggestion(text=h.article.answer, source="article", article_id=h.article.id)
            for h in hits
            if h.score >= threshold / 2
        ]
    return result
