"""Writes for what providers report besides messages: reactions to a message, and read/delivery watermarks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.channels.base import DeliveryWatermark, InboundMessage, InboundReaction
from helpline.channels.models import Channel
from helpline.channels.registry import adapter_class
from helpline.contacts.models import ContactIdentity
from helpline.conversations.events import message_changed
from helpline.conversations.models import Conversation, DeliveryState, Direction, Message
from helpline.platform.clock import utcnow

WATERMARK_BATCH = 500


async def apply_reaction(session: AsyncSession, *, channel: Channel, reaction: InboundReaction) -> Message | None:
    """Show the customer's reaction on the message it reacts to (content["reactions"]); no emoji removes it.

    One reaction per customer per message, as in the apps. A retried, older webhook never overrides a newer
    reaction: each carries the provider's time.
    """
    message = (
        await session.execute(
            select(Message)
            .where(Message.channel_id == channel.id, Message.provider_message_id == reaction.target_provider_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if message is None:
        return None  # a reaction to a message we never stored (sent before the channel was connected)
    at = (reaction.timestamp or utcnow()).isoformat()
    reactions = [dict(r) for r in (message.content or {}).get("reactions") or []]
    mine = next((r for r in reactions if r.get("by") == reaction.contact.provider_id), None)
    if mine is not None and str(mine.get("at", "")) > at:
        return message
    reactions = [r for r in reactions if r is not mine]
    if reaction.emoji:
        reactions.append({"by": reaction.contact.provider_id, "emoji": reaction.emoji, "at": at})
    # A new dict: JSON columns only notice assignment, not in-place changes.
    message.content = {**(message.content or {}), "reactions": reactions}
    await message_changed(session, message, created=False)
    return message


async def apply_watermark(session: AsyncSession, *, channel: Channel, watermark: DeliveryWatermark) -> int:
    """Messenger's delivery/read watermark: every outbound message to this person sent until then moves forward."""
    new = DeliveryState(watermark.state)
    lower = [s.value for s in (DeliveryState.sent, DeliveryState.delivered) if s.rank < new.rank]
    kind = adapter_class(channel.kind).identity_kind(channel.id)
    contact_id = (
        await session.execute(
            select(ContactIdentity.contact_id).where(
                ContactIdentity.kind == kind, ContactIdentity.provider_id == watermark.contact_provider_id
            )
        )
    ).scalar_one_or_none()
    if contact_id is None or not lower:
        return 0
    rows = list(
        (
            await session.execute(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Conversation.channel_id == channel.id,
                    Conversation.contact_id == contact_id,
                    Message.direction == Direction.outbound.value,
                    Message.delivery_state.in_(lower),
                    Message.provider_timestamp <= _cap(watermark.watermark),
                )
                .order_by(Message.id)
                .limit(WATERMARK_BATCH)
                .with_for_update(of=Message)
            )
        ).scalars()
    )
    for message in rows:
        message.delivery_state = new.value
        await message_changed(session, message, created=False)
    return len(rows)


async def claim_own_echo(session: AsyncSession, conversation_id: int, echo: InboundMessage) -> Message | None:
    """An echo of a reply Helpline is still sending (the provider echoed it before our send returned): the
    queued reply takes the echo's provider id instead of the echo becoming a second message. Without this,
    recording the send's receipt later would collide with the echo on the unique provider id."""
    if echo.text is None:
        return None
    message = (
        await session.execute(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.outbound.value,
                Message.delivery_state == DeliveryState.queued.value,
                Message.provider_message_id.is_(None),
                Message.text == echo.text,
            )
            .order_by(Message.id)
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if message is not None:
        message.provider_message_id = echo.provider_message_id
    return message


def _cap(moment: datetime) -> datetime:
    return min(moment, utcnow())
