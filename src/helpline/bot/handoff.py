"""Hand-off to a human: tell the customer, pause the bot for this conversation, notify operators."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.bot.escalation import Trigger
from helpline.bot.language import say
from helpline.bot.models import BotInteraction
from helpline.conversations import waiting
from helpline.conversations.actions import SYSTEM, send_reply
from helpline.conversations.events import conversation_changed
from helpline.conversations.models import Conversation, Handler, Message, Status
from helpline.conversations.timeline import ESCALATED as ESCALATED_EVENT
from helpline.conversations.timeline import record_event
from helpline.platform.clock import utcnow
from helpline.platform.storage import BlobStore
from helpline.realtime.frames import emit_frame
from helpline.webhooks.events import emit_webhook_event

ESCALATED = "conversation.escalated"


def log_interaction(
    session: AsyncSession, conversation_id: int, kind: str, details: dict[str, Any], message_id: int | None = None
) -> None:
    session.add(BotInteraction(conversation_id=conversation_id, message_id=message_id, kind=kind, details=details))


def notice_text(state: dict[str, Any]) -> str:
    """What the customer reads when the bot hands over, in the conversation's language."""
    return say(str(state.get("lang") or "en"), "escalate")


def pause(
    state: dict[str, Any],
    trigger: Trigger,
    summary: str,
    message_id: int | None,
    fields: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Mark `state` paused by this hand-off (in place) and return the escalation record it now holds.

    `fields` ([{"key", "question", "value"}], the script's answers in step order) is the structured case an
    operator reads at the top of the conversation, with the script it came from. `summary` is English text
    (notes, webhooks); `params` and `fields` carry the same facts as data for a screen in another language
    (the shape is documented on bot.schemas.EscalationRecord)."""
    escalation = {
        "reason": trigger.reason,
        "detail": trigger.detail,
        "params": dict(trigger.params),
        "summary": summary,
        "at": utcnow().isoformat(),
        "message_id": message_id,
        "script": state.get("script") if fields is not None else None,
        "fields": fields or [],
    }
    state.update(mode="paused", escalation=escalation)
    return escalation


def rule_summary(state: dict[str, Any], trigger: Trigger, last_texts: list[str]) -> str:
    """A summary without an LLM: the script, the answers collected, the reason and the latest words."""
    parts: list[str] = []
    script = state.get("script")
    if script and state.get("mode") in ("script", "done"):
        parts.append(f"Script: {script.get('name')}{' (completed)' if state.get('mode') == 'done' else ''}.")
    answers = state.get("answers") or {}
    if answers:
        parts.append("Collected: " + "; ".join(f"{k}={v}" for k, v in answers.items()) + ".")
    parts.append(f"Reason: {trigger.reason}{f' ({trigger.detail})' if trigger.detail else ''}.")
    if last_texts:
        parts.append("Customer said: " + " / ".join(f'"{t[:200]}"' for t in last_texts[-3:]))
    return " ".join(parts)


async def escalate(
    session: AsyncSession,
    conversation: Conversation,
    *,
    trigger: Trigger,
    summary: str,
    state: dict[str, Any],
    blobs: BlobStore,
    notify: bool,
    message_id: int | None,
    fields: list[dict[str, Any]] | None = None,
) -> Message | None:
    """The caller holds the conversation's row lock and has checked that the bot still handles it.

    The notice goes out as a system message: the delivery worker drops bot messages of a conversation a
    human handles, and the handler flips in this same transaction. The operators' timeline also gets an
    "escalated" event (conversations/timeline.py), written after the notice, with or without one."""
    notice = None
    if notify:
        notice = await send_reply(
            session,
            conversation_id=conversation.id,
            author=SYSTEM,
            text=notice_text(state),
            content={"bot": {"kind": "handoff", "reason": trigger.reason}},
            blobs=blobs,
        )
    conversation.handler = Handler.human.value
    if conversation.status in (Status.pending.value, Status.snoozed.value):
        conversation.status = Status.open.value
        conversation.snoozed_until = None
    conversation.last_activity_at = utcnow()
    waiting.escalated(conversation, conversation.last_activity_at)
    await record_event(
        session, conversation, ESCALATED_EVENT, actor_id=None, reason=trigger.reason, detail=trigger.detail or None
    )
    escalation = pause(state, trigger, summary, message_id, fields)
    conversation.bot_state = state
    log_interaction(session, conversation.id, "escalated", escalation, message_id)
    record(
        session,
        operator_id=None,
        action="conversation.escalated",
        target_type="conversation",
        target_id=conversation.id,
        details={"reason": trigger.reason, "detail": trigger.detail},
    )
    await conversation_changed(session, conversation)
    data = {
        "conversation_id": conversation.id,
        "reason": trigger.reason,
        "detail": trigger.detail,
        "summary": summary,
        "script": state.get("script"),
        "answers": state.get("answers") or {},
        "fields": escalation["fields"],
    }
    emit_frame(session, ESCALATED, data=data, channel_id=conversation.channel_id, conversation_id=conversation.id)
    emit_webhook_event(session, ESCALATED, data)
    return notice
