"""Event payloads for conversation and message changes: realtime frames and webhook events, via the outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.auth.models import Operator
from helpline.channels.models import Channel
from helpline.contacts.models import Contact
from helpline.conversations.models import Conversation, Message
from helpline.conversations.queries import present_conversation, present_message
from helpline.profiles.models import Event, Profile
from helpline.realtime.frames import emit_frame
from helpline.webhooks.events import emit_webhook_event


async def conversation_changed(
    session: AsyncSession,
    conversation: Conversation,
    *,
    created: bool = False,
    webhook_event: str | None = None,
    channel: Channel | None = None,
) -> None:
    """Frame + webhook for a conversation that was created or changed (objects come from the identity map).

    `channel`: the conversation's channel when the caller already holds it (receive_inbound gets it from
    the webhook route); saves one SELECT per inbound message, since it is not in this session's identity map."""
    contact = await session.get(Contact, conversation.contact_id)
    if channel is None or channel.id != conversation.channel_id:
        channel = await session.get(Channel, conversation.channel_id)
    assert contact is not None and channel is not None
    profile = await session.get(Profile, channel.profile_id) if channel.profile_id else None
    event = await session.get(Event, conversation.event_id) if conversation.event_id else None
    assignee = await session.get(Operator, conversation.assignee_id) if conversation.assignee_id else None
    data = present_conversation(conversation, contact, channel, profile, event, assignee).model_dump(mode="json")
    frame_type = "conversation.created" if created else "conversation.updated"
    emit_frame(session, frame_type, data=data, channel_id=channel.id, conversation_id=conversation.id)
    emit_webhook_event(session, webhook_event or frame_type, data)


async def message_changed(
    session: AsyncSession,
    message: Message,
    *,
    created: bool,
    attachments: list[Attachment] | None = None,
    webhook: bool = True,
    audience_channel_id: int | None = None,
) -> None:
    """Frame (the message's channel as audience — or `audience_channel_id`, the conversation's, for a message that
    arrived on another channel: conversations/copies.py) and, unless `webhook` is False, the webhook event."""
    operator = await session.get(Operator, message.operator_id) if message.operator_id else None
    if attachments is None:
        attachments = list(
            (await session.execute(select(Attachment).where(Attachment.message_id == message.id))).scalars()
        )
    data = present_message(message, operator, attachments).model_dump(mode="json")
    frame_type = "message.created" if created else "message.updated"
    audience = audience_channel_id or message.channel_id
    emit_frame(session, frame_type, data=data, channel_id=audience, conversation_id=message.conversation_id)
    if webhook:
        emit_webhook_event(session, frame_type, data)
