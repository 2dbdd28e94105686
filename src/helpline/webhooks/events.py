"""The events outgoing webhooks can subscribe to, and queuing one for fan-out after commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.platform.outbox import enqueue

EVENTS = (
    "conversation.created",
    "conversation.updated",
    "conversation.escalated",
    "conversation.resolved",
    "message.created",
    "message.updated",
)
FANOUT_TOPIC = "webhooks.event"
DELIVER_TOPIC = "webhooks.deliver"


def emit_webhook_event(session: AsyncSession, event: str, data: dict[str, Any]) -> None:
    """A worker expands this into one signed delivery per subscribed webhook."""
    enqueue(session, FANOUT_TOPIC, {"event": event, "data": data})
