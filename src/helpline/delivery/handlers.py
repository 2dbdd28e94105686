"""The delivery worker: send one queued message through its channel's adapter and record the outcome."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.auth.models import Operator
from helpline.channels.actions import channel_config, mark_needs_reauth
from helpline.channels.base import DeliveryError, OutboundAttachment, OutboundMessage, SentReceipt, ThreadEntry
from helpline.channels.models import Channel
from helpline.channels.registry import adapter_class, build_adapter
from helpline.contacts.models import ContactIdentity
from helpline.conversations.events import message_changed
from helpline.conversations.models import AuthorKind, Conversation, DeliveryState, Direction, Message
from helpline.conversations.models import Handler as ConversationHandler
from helpline.conversations.timeline import EVENT_CONTENT_TYPE, TOOK_OVER
from helpline.platform.clock import utcnow
from helpline.platform.worker import Handler, Job, RetryLater
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

SIGNED_URL_SECONDS = 24 * 3600
# How much of a conversation's history a send sees (mail threading: In-Reply-To, References, subject).
THREAD_LIMIT = 30


def signed_attachment_url(runtime: Runtime, attachment_id: int) -> str:
    path = f"/api/v1/attachments/{attachment_id}/public"
    expires = int(time.time()) + SIGNED_URL_SECONDS
    return f"{runtime.settings.base_url}{path}?expires={expires}&sig={runtime.signer.sign(path, expires)}"


async def _build_outbound(runtime: Runtime, message_id: int) -> tuple[OutboundMessage, Channel] | str:
    """The provider request for a queued message, or why it must not be sent (a string)."""
    async with runtime.db.transaction() as session:
        message = await session.get(Message, message_id)
        if message is None:
            return "message no longer exists"
        if message.delivery_state != DeliveryState.queued.value:
            return "already settled"  # a retry after the outcome was recorded: nothing to do
        conversation = await session.get(Conversation, message.conversation_id)
        channel = await session.get(Channel, message.channel_id)
        assert conversation is not None and channel is not None
        if (
            message.author_kind == AuthorKind.bot.value
            and conversation.handler != ConversationHandler.bot.value
            and await _taken_over_since(session, message)
        ):
            return "bot_paused"
        identity = (
            await session.execute(
                select(ContactIdentity).where(
                    ContactIdentity.contact_id == conversation.contact_id,
                    ContactIdentity.kind == adapter_class(channel.kind).identity_kind(channel.id),
                )
            )
        ).scalar_one_or_none()
        if identity is None:
            return "no_identity"
        operator = await session.get(Operator, message.operator_id) if message.operator_id else None
        attachments = list(
            (await session.execute(select(Attachment).where(Attachment.message_id == message.id))).scalars()
        )
        reply_to = await session.get(Message, message.reply_to_id) if message.reply_to_id else None
        earlier = (
            await session.execute(
                select(Message.provider_message_id, Message.direction, Message.content)
                .where(
                    Message.conversation_id == conversation.id,
                    Message.id != message.id,
                    Message.provider_message_id.is_not(None),
                )
                .order_by(Message.id.desc())
                .limit(THREAD_LIMIT)
            )
        ).all()
        # The first message carries the thread's subject: always part of what the adapter sees.
        first = (
            await session.execute(
                select(Message.provider_message_id, Message.direction, Message.content)
                .where(Message.conversation_id == conversation.id, Message.provider_message_id.is_not(None))
                .order_by(Message.id)
                .limit(1)
            )
        ).first()
        rows = ([first] if first is not None and first not in earlier else []) + list(reversed(earlier))
        thread = tuple(
            ThreadEntry(str(pid), direction == Direction.inbound.value, dict(content or {}))
            for pid, direction, content in rows
        )
        outbound = OutboundMessage(
            message_id=message.id,
            conversation_id=conversation.id,
            idempotency_key=f"helpline-message-{message.id}",
            recipient_id=identity.provider_id,
            text=message.text,
            author_kind=message.author_kind,
            author_name=operator.name if operator else None,
            attachments=tuple(
                OutboundAttachment(
                    filename=a.filename,
                    content_type=a.content_type,
                    size=a.size,
                    url=signed_attachment_url(runtime, a.id),
                    data=runtime.blobs.read(a.storage_key) if a.storage_key else None,
                )
                for a in attachments
            ),
            reply_to_provider_id=reply_to.provider_message_id if reply_to else None,
            content=dict(message.content or {}),
            thread=thread,
            sent_parts=dict((message.content or {}).get("parts") or {}),
            record_part=partial(_record_part, runtime, message.id),
        )
        return outbound, channel


async def _taken_over_since(session: AsyncSession, message: Message) -> bool:
    """Whether a person took the conversation over after `message` was queued (a "took_over" timeline event
    with a later id). The bot's own hand-off flips the handler too, but must not cancel the replies the bot
    queued before or with it ("Sorry, I can't help…"): only a human's takeover does."""
    events = (
        await session.execute(
            select(Message.content).where(
                Message.conversation_id == message.conversation_id,
                Message.id > message.id,
                Message.content_type == EVENT_CONTENT_TYPE,
            )
        )
    ).scalars()
    return any((content or {}).get("event") == TOOK_OVER for content in events)


async def _record_part(runtime: Runtime, message_id: int, key: str, provider_id: str) -> None:
    """Persist at once that the provider accepted one part of a multi-part send (content["parts"]), so a
    retry — after a failed later part or a crash — never sends it again."""
    async with runtime.db.transaction() as session:
        message = await session.get(Message, message_id, with_for_update=True)
        if message is None:
            return
        parts = dict((message.content or {}).get("parts") or {})
        parts[key] = provider_id
        message.content = {**(message.content or {}), "parts": parts}


_SKIP_REASONS = {
    "bot_paused": "not sent: a human took over this conversation before the bot's reply went out",
    "no_identity": "not sent: the contact has no identity on this channel",
}


async def _record(
    runtime: Runtime,
    message_id: int,
    *,
    receipt: SentReceipt | None = None,
    error: DeliveryError | None = None,
    skip: str | None = None,
    handed_over: datetime | None = None,
) -> None:
    async with runtime.db.transaction() as session:
        message = await session.get(Message, message_id)
        if message is None or message.delivery_state != DeliveryState.queued.value:
            return
        if receipt is not None:
            message.delivery_state = DeliveryState.sent.value
            # An earlier attempt's reason (recorded while retrying) no longer applies once it went out.
            message.error_code = None
            message.error_reason = None
            message.provider_message_id = receipt.provider_message_id or message.provider_message_id
            # Without the provider's own time, the send's start: Messenger's read watermark covers messages
            # "sent up to" it, and a customer with the thread open reads (and Meta stamps the watermark) before
            # our call returns; with the time recorded after the response such a reply stayed "delivered".
            message.provider_timestamp = receipt.timestamp or handed_over or utcnow()
            if receipt.content:
                message.content = {**(message.content or {}), **receipt.content}
        else:
            message.delivery_state = DeliveryState.failed.value
            message.error_code = error.code if error else skip
            message.error_reason = error.reason if error else _SKIP_REASONS.get(skip or "", skip)
            if error is not None and error.needs_reauth:
                await mark_needs_reauth(session, message.channel_id, error.reason)
        await message_changed(session, message, created=False)


async def _record_attempt(runtime: Runtime, message_id: int, error: DeliveryError) -> None:
    """Keep the message `queued` but record why this attempt failed (error_code, error_reason) and tell the
    operators, so a reply the outbox keeps retrying reads "Not delivered yet: <reason> — retrying" instead of
    an unexplained "Sending" for hours (ui-guide §3: a failure is shown with its reason in words)."""
    async with runtime.db.transaction() as session:
        message = await session.get(Message, message_id)
        if message is None or message.delivery_state != DeliveryState.queued.value:
            return
        if (message.error_code, message.error_reason) == (error.code, error.reason):
            return  # the same outage again: nothing new to show
        message.error_code = error.code
        message.error_reason = error.reason
        await message_changed(session, message, created=False)


def make_delivery_handler(runtime: Runtime) -> Handler:
    async def deliver(job: Job) -> None:
        message_id = int(job.payload["message_id"])
        built = await _build_outbound(runtime, message_id)
        if isinstance(built, str):
            if built in _SKIP_REASONS:
                await _record(runtime, message_id, skip=built)
            return
        outbound, channel = built
        adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
        handed_over = utcnow()
        try:
            receipt = await adapter.send(outbound)
        except DeliveryError as exc:
            if exc.retryable and not job.last_attempt:
                runtime.metrics.outbound_messages.labels(channel.kind, "retry").inc()
                await _record_attempt(runtime, message_id, exc)
                raise RetryLater(exc.reason) from exc
            runtime.metrics.outbound_messages.labels(channel.kind, "failed").inc()
            await _record(runtime, message_id, error=exc)
            return
        except Exception as exc:
            if job.last_attempt:
                # Never leave a reply "queued" forever: the operator must see that it did not go out.
                await _record(runtime, message_id, error=DeliveryError(f"internal error: {exc}", retryable=False))
            raise
        runtime.metrics.outbound_messages.labels(channel.kind, "sent").inc()
        await _record(runtime, message_id, receipt=receipt, handed_over=handed_over)

    return deliver
