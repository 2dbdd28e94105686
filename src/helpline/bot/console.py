"""The try-it console: what the bot would answer to one message, decided by the bot's own code, nothing stored.

It runs `flow.decide` (through the pipeline's `decide_or_hand_over`) on the serving build — or on a build that
includes an unsaved draft script, trained the same way — then applies what the pipeline would do after the
decision and before any write: a reply the channel's provider refuses hands over (engagement.reply_limits),
and a hand-over adds the customer notice of `bot.handoff`. State goes back to the caller, who sends it again
to step through a script.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bot.engine import ScriptEntry, Snapshot
from helpline.bot.escalation import CASE, TECHNICAL_ERROR, Trigger
from helpline.bot.flow import Context
from helpline.bot.handoff import notice_text, pause, rule_summary
from helpline.bot.models import Script
from helpline.bot.pipeline import BotFrontLine, decide_or_hand_over, load_entry
from helpline.bot.runner import Outcome
from helpline.bot.schemas import (
    TryAction,
    TryAlternative,
    TryArticle,
    TryEscalation,
    TryMatch,
    TryReply,
    TryRequest,
    TryResult,
    TryState,
)
from helpline.channels.registry import adapter_class
from helpline.engagement.reply_limits import ReplyRefused, check_reply
from helpline.platform.errors import Invalid
from helpline.settings import Settings

DRAFT_VERSION = 0  # saved versions start at 1


async def _draft_entry(session: AsyncSession, request: TryRequest) -> ScriptEntry | None:
    if request.script is None:
        return None
    saved_id = (await session.execute(select(Script.id).where(Script.key == request.script.key))).scalar()
    return ScriptEntry(saved_id or 0, request.script.key, request.script.name, DRAFT_VERSION, request.script)


async def _running(session: AsyncSession, state: dict[str, Any], draft: ScriptEntry | None) -> ScriptEntry | None:
    """The script a stepped-through state is in: the draft, or the saved version it names."""
    ref = state.get("script") if state.get("mode") == "script" else None
    if not ref:
        return None
    if int(ref["version"]) == DRAFT_VERSION:
        if draft is None or draft.key != ref["key"]:
            raise Invalid("the state is in a draft script: send that draft again as `script`", code="draft_missing")
        return draft
    entry = await load_entry(session, int(ref["id"]), int(ref["version"]))
    if entry is None:
        raise Invalid(f"the state names script {ref['id']} version {ref['version']}, which does not exist")
    return entry


def _quick_replies(content: dict[str, Any], entry: ScriptEntry | None) -> list[str]:
    bot = content.get("bot") or {}
    if content.get("quick_replies"):
        return [str(q) for q in content["quick_replies"]]
    if bot.get("kind") == "clarify":
        return [str(c["name"]) for c in bot.get("candidates") or []]
    if entry is not None and bot.get("kind") in ("question", "retry") and bot.get("step"):
        step = next((s for s in entry.definition.steps if s.key == bot["step"]), None)
        return list(step.choices) if step is not None and step.type == "choice" else []
    return []


def _action(outcome: Outcome) -> TryAction:
    kinds = [kind for kind, _ in outcome.log]
    actions: tuple[tuple[str, TryAction], ...] = (
        ("script_started", "start_script"),
        ("script_completed", "complete_script"),
        ("script_stopped", "complete_script"),
        ("answer_rejected", "retry_step"),
        ("answer_extracted", "next_step"),
        ("answer_confirmed", "next_step"),
        ("answer_corrected", "next_step"),
        ("answer_changed", "next_step"),  # "no, it was Tuesday": an earlier answer replaced
        ("answer_prefilled", "next_step"),  # an answer to a later step given early, noted
        ("clarify", "clarify"),
        ("article_used", "article"),
        ("small_talk", "small_talk"),
    )
    for log_kind, action in actions:
        if log_kind in kinds:
            return action
    return "fallback"


def _match(outcome: Outcome, snapshot: Snapshot, draft: ScriptEntry | None, running: bool) -> TryMatch | None:
    def make(ref: dict[str, Any], confidence: float | None, method: str | None) -> TryMatch:
        is_draft = draft is not None and ref["key"] == draft.key
        saved_id = int(ref.get("id") or ref.get("script_id") or 0)
        return TryMatch(
            script_id=saved_id or None,
            script_key=str(ref["key"]),
            script_name=str(ref["name"]),
            confidence=confidence,
            method=method,
            draft=is_draft,
        )

    for kind, details in outcome.log:
        if kind == "script_started":
            how = details.get("how")
            return make(details["script"], details.get("confidence"), snapshot.method if how == "matched" else how)
    if running and outcome.state.get("script"):
        return make(outcome.state["script"], None, "running")
    for kind, details in outcome.log:
        if kind == "matched" and details["candidates"] and not details["out_of_scope"]:
            top = details["candidates"][0]
            return make(top, top["confidence"], snapshot.method)
    return None


async def try_message(
    session: AsyncSession, front_line: BotFrontLine, request: TryRequest, *, settings: Settings
) -> TryResult:
    """Decide one message as the bot would, with `request.state` as the conversation's bot state.

    Raises Invalid (422) for an unknown `channel_kind` or a state naming a script version that does not exist.
    """
    if request.channel_kind is not None:
        adapter_class(request.channel_kind)  # 422 naming the known kinds
    draft = await _draft_entry(session, request)
    snapshot = (
        await front_line.engine.with_draft(draft, only=request.script_only)
        if draft is not None
        else await front_line.engine.current()
    )
    state = request.state.model_dump(exclude_none=True, mode="json") if request.state else {}
    if request.language:
        state["lang"] = request.language
    running = await _running(session, state, draft)
    outcome = await decide_or_hand_over(
        Context(
            text=request.message,
            state=state,
            tags=[],
            settings=settings,
            snapshot=snapshot,
            running=running,
            llm=front_line.llm,
            today=front_line.local_date(None, None),
        ),
        where="the try-it console",
    )
    replies = [(reply.text, reply.content) for reply in outcome.replies]
    if request.channel_kind is not None and not outcome.escalate:
        try:
            for text, _ in replies:
                check_reply(request.channel_kind, text, [])
        except ReplyRefused as exc:
            # As the pipeline does when send_reply refuses a bot reply: nothing of it goes out, a person answers.
            replies, outcome.escalate = [], Trigger(TECHNICAL_ERROR, exc.message)
    if outcome.escalate is not None:
        if outcome.notify:  # a script ending in a case told the customer in its closing message
            replies.append((notice_text(outcome.state), {"bot": {"kind": "handoff"}}))
        pause(outcome.state, outcome.escalate, rule_summary(outcome.state, outcome.escalate, [request.message]), None)
    entry = running or next(
        (s for s in snapshot.scripts.values() if s.key == (outcome.state.get("script") or {}).get("key")), None
    )
    messages = [
        TryReply(
            kind=str((content.get("bot") or {}).get("kind") or "reply"),
            text=text,
            quick_replies=_quick_replies(content, entry),
        )
        for text, content in replies
    ]
    matched = next((d for kind, d in outcome.log if kind == "matched"), None)
    article = next((d["article"] for kind, d in outcome.log if kind == "article_used"), None)
    match = _match(outcome, snapshot, draft, running is not None)
    candidates = matched["candidates"] if matched else []
    return TryResult(
        action="escalate" if outcome.escalate and outcome.escalate.reason != CASE else _action(outcome),
        match=match,
        alternatives=[
            TryAlternative(script_key=c["key"], script_name=c["name"], confidence=c["confidence"])
            for c in candidates
            if match is None or c["key"] != match.script_key
        ],
        out_of_scope=matched["out_of_scope"] if matched else None,
        article=TryArticle(**article) if article else None,
        reply=TryReply(
            kind=messages[-1].kind,
            text="\n\n".join(m.text for m in messages),
            quick_replies=messages[-1].quick_replies,
        )
        if messages
        else None,
        replies=messages,
        escalation=TryEscalation(reason=outcome.escalate.reason, detail=outcome.escalate.detail)
        if outcome.escalate
        else None,
        progress=outcome.progress,
        answers=dict(outcome.state.get("answers") or {}),
        method=snapshot.method,
        # The counter may step past the request bound (a state sent back at the limit): the returned state
        # must stay one the console accepts again, never a 500.
        state=TryState.model_validate(
            {**outcome.state, "low_confidence": min(int(outcome.state.get("low_confidence") or 0), 1000)}
        ),
    )
