"""Later replies by e-mail: an operator's reply the visitor has not read after a while goes to the address they
left, through the linked e-mail channel's own adapter (the generic send path), at most once per reply.

A visitor with the chat open reads replies as they arrive (the widget reports `read`); one who left the page
does not, and gets a copy by e-mail — as Intercom and Chatwoot do. The copy is claimed in the database before
it is sent, so two workers never both send it; a crash between claim and send loses that copy rather than
sending it twice. The reply itself stays in the chat's history; a mail answer arrives on the e-mail channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from helpline.auth.models import Operator
from helpline.channels.actions import channel_config
from helpline.channels.base import DeliveryError, OutboundMessage
from helpline.channels.models import Channel
from helpline.channels.registry import build_adapter
from helpline.channels.widget.adapter import KIND
from helpline.channels.widget.settings import WidgetSettings
from helpline.contacts.models import Contact
from helpline.conversations.models import AuthorKind, Conversation, DeliveryState, Direction, Message
from helpline.platform.clock import utcnow
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

UNREAD = (DeliveryState.sent.value, DeliveryState.delivered.value)
# A reply is considered for a copy during this long after it became due (the chore runs every few seconds).
CONSIDER_FOR = timedelta(hours=1)
BATCH = 200
FOOTER = {
    "en": "You can answer this e-mail, or continue the conversation in the chat on our website.",
    "pt": "Você pode responder a este e-mail ou continuar a conversa no chat do nosso site.",
}


@dataclass(frozen=True)
class _Copy:
    message_id: int
    email_channel: Channel
    outbound: OutboundMessage


async def _due(runtime: Runtime) -> list[int]:
    """Ids of operators' widget replies old enough and still unread, on widgets with a linked e-mail channel."""
    now = utcnow()
    oldest = now - timedelta(minutes=1440) - CONSIDER_FOR
    async with runtime.db.reads() as session:
        rows = (
            await session.execute(
                select(Message.id, Message.created_at, Channel.settings)
                .join(Channel, Channel.id == Message.channel_id)
                .where(
                    Channel.kind == KIND,
                    Message.direction == Direction.outbound.value,
                    Message.author_kind == AuthorKind.operator.value,
                    Message.delivery_state.in_(UNREAD),
                    Message.created_at >= oldest,
                )
                .order_by(Message.id.desc())
                .limit(BATCH)
            )
        ).all()
    due = []
    for message_id, created_at, settings in rows:
        widget = WidgetSettings.model_validate(dict(settings or {}))
        delay = timedelta(minutes=widget.email_after_minutes)
        if widget.email_channel_id and now - CONSIDER_FOR - delay <= created_at <= now - delay:
            due.append(int(message_id))
    return due


async def _claim(runtime: Runtime, message_id: int) -> _Copy | None:
    """Mark the reply's copy as being sent (in its own transaction) and build it; None when it needs none."""
    async with runtime.db.transaction() as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if message is None or message.delivery_state not in UNREAD or "email_copy" in (message.content or {}):
            return None
        conversation = await session.get(Conversation, message.conversation_id)
        widget_channel = await session.get(Channel, message.channel_id)
        assert conversation is not None and widget_channel is not None
        contact = await session.get(Contact, conversation.contact_id)
        widget = WidgetSettings.model_validate(dict(widget_channel.settings or {}))
        email_channel = await session.get(Channel, widget.email_channel_id) if widget.email_channel_id else None
        if contact is None or not contact.email or email_channel is None or email_channel.kind == KIND:
            return None
        if email_channel.status != "active":
            message.content = {**(message.content or {}), "email_copy": {"state": "skipped", "reason": "inactive"}}
            return None
        operator = await session.get(Operator, message.operator_id) if message.operator_id else None
        message.content = {
            **(message.content or {}),
            "email_copy": {"state": "sending", "channel_id": email_channel.id, "to": contact.email},
        }
        language = "pt" if widget.locale == "pt" else "en"
        text = (message.text or "").strip() or "…"
        outbound = OutboundMessage(
            message_id=message.id,
            conversation_id=conversation.id,
            idempotency_key=f"widget-email-copy-{message.id}",
            recipient_id=contact.email,
            text=f"{text}\n\n{FOOTER[language]}",
            author_kind=message.author_kind,
            author_name=operator.name if operator else None,
        )
        return _Copy(message.id, email_channel, outbound)


async def _record(runtime: Runtime, message_id: int, outcome: dict[str, Any]) -> None:
    async with runtime.db.transaction() as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if message is not None:
            copy = dict((message.content or {}).get("email_copy") or {})
            message.content = {**(message.content or {}), "email_copy": {**copy, **outcome}}


async def send_email_copies(runtime: Runtime) -> int:
    """One pass: send the copies that are due; returns how many went out. Safe to run in every worker process."""
    sent = 0
    for message_id in await _due(runtime):
        copy = await _claim(runtime, message_id)
        if copy is None:
            continue
        adapter = build_adapter(channel_config(copy.email_channel, runtime.box, runtime.settings), runtime.http)
        try:
            receipt = await adapter.send(copy.outbound)
        except DeliveryError as exc:
            log.warning("e-mail copy of widget reply %s failed: %s", message_id, exc.reason)
            await _record(runtime, message_id, {"state": "failed", "reason": exc.reason[:500]})
            continue
        await _record(runtime, message_id, {"state": "sent", "provider_message_id": receipt.provider_message_id})
        sent += 1
    return sent
