"""Waiting for a human: the one definition (in Python and in SQL) and the moments that start or end a wait.

A conversation waits for a human when a person handles it (handler human), it is open or pending, and the
customer wrote (or the bot escalated) after the last answer. `Conversation.waiting_since` holds when that
wait began: the first unanswered customer message, or the escalation when nothing was pending. A reply by an
operator or the bot, an echo of a reply sent from the provider's own inbox, a hand-back and a resolve end it;
system messages (the hand-off notice) and timeline events do not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_

from helpline.conversations.models import Conversation, Handler, Status
from helpline.conversations.schemas import EscalationPublic

ACTIVE_STATUSES = (Status.open.value, Status.pending.value)


def customer_wrote(conversation: Conversation, at: datetime) -> None:
    """A customer message: the wait starts now unless an earlier message is still unanswered."""
    if conversation.waiting_since is None:
        conversation.waiting_since = at


def escalated(conversation: Conversation, at: datetime) -> None:
    """The bot handed over: the customer waits for a person from now, or since their unanswered message."""
    if conversation.waiting_since is None:
        conversation.waiting_since = at


def answered(conversation: Conversation) -> None:
    """Someone (an operator, the bot) answered, or the conversation left the queue (hand-back, resolve)."""
    conversation.waiting_since = None


def is_waiting(conversation: Conversation) -> bool:
    return (
        conversation.handler == Handler.human.value
        and conversation.status in ACTIVE_STATUSES
        and conversation.waiting_since is not None
    )


def waiting_clause() -> ColumnElement[bool]:
    """The SQL twin of `is_waiting`."""
    return and_(
        Conversation.handler == Handler.human.value,
        Conversation.status.in_(ACTIVE_STATUSES),
        Conversation.waiting_since.is_not(None),
    )


def waiting_since(conversation: Conversation) -> datetime | None:
    """What `ConversationPublic.waiting_since` shows: the start of the wait, null when not waiting."""
    return conversation.waiting_since if is_waiting(conversation) else None


def escalation_of(conversation: Conversation) -> EscalationPublic | None:
    """The bot's hand-off ({reason, detail, at}) while a person handles the conversation it escalated.

    Stored by bot.handoff.escalate in `bot_state["escalation"]` with mode "paused"; the bot files it in its
    history when it resumes after a hand-back, and a script chosen by an operator removes it."""
    state: dict[str, Any] = conversation.bot_state or {}
    if conversation.handler != Handler.human.value or state.get("mode") != "paused":
        return None
    raw: Any = state.get("escalation")
    if not isinstance(raw, dict) or not raw.get("reason"):
        return None
    try:
        at = datetime.fromisoformat(str(raw["at"])) if raw.get("at") else None
    except ValueError:
        at = None
    params = raw.get("params")
    return EscalationPublic(
        reason=str(raw["reason"]),
        detail=str(raw.get("detail") or "") or None,
        params=params if isinstance(params, dict) else {},
        at=at,
    )


def language_of(conversation: Conversation, contact_attributes: dict[str, Any] | None) -> str | None:
    """The conversation's language: what the bot detected, else the contact's `language` attribute."""
    detected = (conversation.bot_state or {}).get("lang")
    if isinstance(detected, str) and detected:
        return detected
    declared = (contact_attributes or {}).get("language")
    return declared if isinstance(declared, str) and declared else None
