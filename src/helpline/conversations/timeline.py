"""Timeline events: what happened to a conversation (take over, hand back, assign, status, labels, escalation)
as system messages operators read in order with the messages.

An event is a `Message` with author_kind "system", content_type "event", no text, delivery_state "internal"
and `content = {"event": <name>, "actor": {"id", "name"} | null, ...details}`. It is written in the same
transaction as the change it records, is never delivered to a provider (no delivery row), never counts as
unread, never touches the reply window (last_inbound_at) nor the list's last-message preview, and reaches
operators as a `message.created` frame with the conversation's channel as audience. It is not sent to
outgoing webhooks: they get the `conversation.*` event of the change itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.auth.models import Operator
from helpline.conversations.events import message_changed
from helpline.conversations.models import AuthorKind, Conversation, DeliveryState, Direction, Message

EVENT_CONTENT_TYPE = "event"

# Every event name, for clients' catalogues.
TOOK_OVER = "took_over"
HANDED_BACK = "handed_back"
ASSIGNED = "assigned"
UNASSIGNED = "unassigned"
RESOLVED = "resolved"
REOPENED = "reopened"
SNOOZED = "snoozed"
EVENT_CHANGED = "event_changed"
TAGS_CHANGED = "tags_changed"
PRIORITY_CHANGED = "priority_changed"
ESCALATED = "escalated"


async def operator_brief(session: AsyncSession, operator_id: int | None) -> dict[str, Any] | None:
    """{"id", "name"} of an operator, or None (the system, the bot, an operator since deleted)."""
    if operator_id is None:
        return None
    operator = await session.get(Operator, operator_id)
    return {"id": operator.id, "name": operator.name} if operator else None


async def record_event(
    session: AsyncSession, conversation: Conversation, event: str, *, actor_id: int | None, **details: Any
) -> Message:
    """Insert the event message and queue its frame; `details` must be JSON-serialisable."""
    message = Message(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction=Direction.outbound.value,
        author_kind=AuthorKind.system.value,
        text=None,
        content_type=EVENT_CONTENT_TYPE,
        content={"event": event, "actor": await operator_brief(session, actor_id), **details},
        delivery_state=DeliveryState.internal.value,
    )
    session.add(message)
    await session.flush()
    await message_changed(session, message, created=True, attachments=[], webhook=False)
    return message
