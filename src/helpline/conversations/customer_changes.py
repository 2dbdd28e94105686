"""What a customer changes after the fact: a withdrawn (unsent) message, an edited one, a new phone number.

A withdrawal removes the content everywhere Helpline copied it: the message's text and content, its
attachments (rows and, when no other attachment shares the bytes, the file on disk), the conversation
preview, the copies waiting in the outbox, the stored payloads of outgoing webhooks (sent or not) and the
frames in every process's replay buffer (realtime/forget.py). Operators see the change live (message.updated
and conversation.updated frames). An edit replaces the text and keeps the earlier versions in
`content["edits"]`. An unsend or edit that arrives before its message (webhooks come in no guaranteed order)
is kept as an early change, and the message is stored already withdrawn or edited: its withdrawn content is
never stored or shown. A number change re-keys the identity so the next message from the new number continues
with the same contact, and is recorded as a system event (no reply window, no unread).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.bot.models import BotInteraction
from helpline.channels.base import IdentityChanged, InboundContact, InboundDeletion, InboundEdit, InboundMessage
from helpline.channels.models import Channel
from helpline.channels.registry import adapter_class
from helpline.contacts.models import Contact, ContactIdentity
from helpline.conversations.events import conversation_changed, message_changed
from helpline.conversations.models import AuthorKind, Conversation, DeliveryState, Direction, EarlyChange, Message
from helpline.conversations.previews import message_preview
from helpline.platform.clock import utcnow
from helpline.platform.outbox import PENDING, OutboxRow, enqueue
from helpline.platform.storage import BlobStore
from helpline.realtime.forget import forget_frame
from helpline.realtime.frames import TOPIC as REALTIME_TOPIC
from helpline.webhooks.models import WebhookDelivery

log = logging.getLogger(__name__)

DELETED_PREVIEW = "[message deleted by the customer]"
# An early change whose message never came (it was sent before the channel was connected) goes after this.
EARLY_CHANGE_DAYS = 7
# On PostgreSQL an unsend and its message can commit side by side, each missing the other: this job looks
# again once both have committed, and applies a change whose message turned up meanwhile.
EARLY_CHANGE_TOPIC = "customer_changes.recheck"
RECHECK_SECONDS = 5
# Outbox topics whose payloads carry a copy of a message (realtime frames, webhook fan-out and deliveries).
_COPYING_TOPICS = ("realtime.publish", "webhooks.event", "webhooks.deliver")


async def _target(session: AsyncSession, channel: Channel, provider_id: str) -> Message | None:
    return (
        await session.execute(
            select(Message)
            .where(Message.channel_id == channel.id, Message.provider_message_id == provider_id)
            .with_for_update()
        )
    ).scalar_one_or_none()


async def apply_deletion(
    session: AsyncSession, *, channel: Channel, deletion: InboundDeletion, blobs: BlobStore
) -> Message | None:
    """Erase a message the customer withdrew; None when we never stored it. Idempotent (a redelivered
    unsend finds the message already erased and changes nothing)."""
    message = await _target(session, channel, deletion.target_provider_id)
    if message is None:
        await keep_early(
            session, channel, deletion.target_provider_id, kind="deleted", text=None, at=deletion.timestamp
        )
        return None
    if message.direction != Direction.inbound.value:
        return None
    if (message.content or {}).get("deleted"):
        return message
    attachments = list((await session.execute(select(Attachment).where(Attachment.message_id == message.id))).scalars())
    old_preview = message_preview(message.text, message.content, attachments)
    # Every version the customer wrote may still sit in a waiting copy of the conversation's preview.
    versions = [e.get("text") for e in (message.content or {}).get("edits") or [] if isinstance(e, dict)]
    old_previews = {old_preview} | {message_preview(v, None, attachments) for v in versions if isinstance(v, str)}
    for attachment in attachments:
        await _erase_attachment(session, blobs, attachment)
    message.text = None
    message.content = _withdrawn(deletion.timestamp or utcnow())
    message.content_type = "deleted"
    withdrawn_previews = {p for p in old_previews if p}
    await _scrub_copies(session, message, withdrawn_previews)
    # Frames already relayed sit in every process's replay buffer: the hubs drop them (queued before the
    # message.updated frame below, so that one is kept and tells reconnecting clients).
    enqueue(session, REALTIME_TOPIC, forget_frame({"message": {message.id}}, withdrawn_previews))
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    await message_changed(session, message, created=False, attachments=[])
    if conversation.last_message_preview == old_preview or _is_latest(conversation, message):
        conversation.last_message_preview = DELETED_PREVIEW
    # Always sent: a preview frame already on an operator's screen may hold the withdrawn text.
    await conversation_changed(session, conversation, channel=channel)
    return message


def _withdrawn(at: datetime) -> dict[str, Any]:
    """The content of a withdrawn message: who withdrew it and when, and the inbox's readable preview."""
    return {"deleted": {"by": "contact", "at": at.isoformat()}, "summary": DELETED_PREVIEW}


async def keep_early(
    session: AsyncSession, channel: Channel, provider_id: str, *, kind: str, text: str | None, at: datetime | None
) -> None:
    """Keep an unsend or edit whose message has not arrived (yet); drops early changes too old to matter."""
    session.add(
        EarlyChange(
            channel_id=channel.id, provider_message_id=provider_id, kind=kind, text=text, happened_at=at or utcnow()
        )
    )
    cutoff = utcnow() - timedelta(days=EARLY_CHANGE_DAYS)
    await session.execute(delete(EarlyChange).where(EarlyChange.created_at < cutoff))
    enqueue(
        session,
        EARLY_CHANGE_TOPIC,
        {"channel_id": channel.id, "provider_message_id": provider_id},
        delay_seconds=RECHECK_SECONDS,
    )


async def apply_left_over_changes(
    session: AsyncSession, *, channel: Channel, provider_id: str, blobs: BlobStore
) -> int:
    """Apply early changes whose message was stored without them (it committed alongside the change, each
    transaction blind to the other); returns how many were applied. Nothing happens while the message is
    still missing: `with_early_changes` uses them up when it comes."""
    message = await _target(session, channel, provider_id)
    if message is None:
        return 0
    changes = list(
        (
            await session.execute(
                select(EarlyChange)
                .where(EarlyChange.channel_id == channel.id, EarlyChange.provider_message_id == provider_id)
                .order_by(EarlyChange.happened_at, EarlyChange.id)
            )
        ).scalars()
    )
    nobody = InboundContact(provider_id="")
    for change in changes:
        await session.delete(change)
        if change.kind == "deleted":
            await apply_deletion(
                session,
                channel=channel,
                deletion=InboundDeletion(nobody, provider_id, change.happened_at),
                blobs=blobs,
            )
        else:
            edit = InboundEdit(nobody, provider_id, change.text or "", change.happened_at)
            await apply_edit(session, channel=channel, edit=edit)
    return len(changes)


async def with_early_changes(session: AsyncSession, channel_id: int, inbound: InboundMessage) -> InboundMessage:
    """`inbound` as the customer left it, when an unsend or edits of it arrived first (and are used up here):
    withdrawn — no text, no content, no files, so nothing of it is ever stored — or carrying the last edit's
    text with the earlier versions in content["edits"], as `apply_edit` would have left it. Rule source: Meta
    Messenger/Instagram webhooks (`message.is_deleted`, `message_edit`) are not delivered in order."""
    changes = list(
        (
            await session.execute(
                select(EarlyChange)
                .where(
                    EarlyChange.channel_id == channel_id, EarlyChange.provider_message_id == inbound.provider_message_id
                )
                .order_by(EarlyChange.happened_at, EarlyChange.id)
            )
        ).scalars()
    )
    if not changes or inbound.echo:
        return inbound
    for change in changes:
        await session.delete(change)
    deletion = next((c for c in changes if c.kind == "deleted"), None)
    if deletion is not None:
        return replace(
            inbound, text=None, content_type="deleted", content=_withdrawn(deletion.happened_at), attachments=()
        )
    text, edits = inbound.text, []
    for change in changes:
        if change.text != text:
            edits.append({"text": text, "replaced_at": change.happened_at.isoformat()})
            text = change.text
    return replace(inbound, text=text, content={**inbound.content, "edits": edits}) if edits else inbound


def _is_latest(conversation: Conversation, message: Message) -> bool:
    return bool(
        conversation.last_message_at
        and message.provider_timestamp
        and message.provider_timestamp >= conversation.last_message_at
    )


async def _erase_attachment(session: AsyncSession, blobs: BlobStore, attachment: Attachment) -> None:
    key = attachment.storage_key
    await session.delete(attachment)
    await session.flush()
    if not key:
        return
    # Blobs are shared by content hash: the file goes only when no other attachment points at it.
    others = (await session.execute(select(func.count()).where(Attachment.storage_key == key))).scalar_one()
    if not others:
        with suppress(FileNotFoundError):
            blobs.path(key).unlink()


def _data(payload: Any) -> dict[str, Any] | None:
    """The presented object inside an outbox row or webhook delivery (`data`, possibly one level down)."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("data"), dict):
        return dict(payload["data"])
    return _data(payload.get("payload"))


def _scrubbed(payload: Any, message: Message, old_previews: set[str]) -> Any | None:
    """`payload` without the withdrawn content, or None when it holds none of it. A copy of the message
    itself is dropped (None data); a conversation copy gets the deleted preview."""
    data = _data(payload)
    if data is None:
        return None
    if data.get("id") == message.id and data.get("conversation_id") == message.conversation_id:
        return {"drop": True}
    last = data.get("last_message")
    if data.get("id") == message.conversation_id and isinstance(last, dict) and last.get("preview") in old_previews:
        return _replace_data(payload, {**data, "last_message": {**last, "preview": DELETED_PREVIEW}})
    return None


def _replace_data(payload: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(payload.get("data"), dict):
        return {**payload, "data": data}
    return {**payload, "payload": _replace_data(dict(payload["payload"]), data)}


async def _scrub_copies(session: AsyncSession, message: Message, old_previews: set[str]) -> None:
    """Remove stored copies of the withdrawn content: outbox frames and events not yet sent (a copy of the
    message is dropped, a conversation's preview replaced) and outgoing webhook deliveries, sent or not.
    The message.updated event that follows tells every receiver."""
    rows = (
        await session.execute(
            select(OutboxRow).where(OutboxRow.status == PENDING, OutboxRow.topic.in_(_COPYING_TOPICS))
        )
    ).scalars()
    stale: list[int] = []
    for row in rows:
        scrubbed = _scrubbed(row.payload, message, old_previews)
        if scrubbed is None:
            continue
        if scrubbed.get("drop"):
            stale.append(row.id)
        else:
            row.payload = scrubbed
    if stale:
        await session.execute(delete(OutboxRow).where(OutboxRow.id.in_(stale)))
    # Delivered ones too: the receiver has its copy, but Helpline's record of what it sent must not keep one.
    # Nothing written before the message can hold it (a minute's margin for clocks of other processes).
    since = message.created_at - timedelta(minutes=1)
    deliveries = (await session.execute(select(WebhookDelivery).where(WebhookDelivery.created_at >= since))).scalars()
    for delivery in deliveries:
        scrubbed = _scrubbed(delivery.payload, message, old_previews)
        if scrubbed is not None:
            delivery.payload = (
                {"event": delivery.event, "data": {"id": message.id, "deleted": True}}
                if scrubbed.get("drop")
                else scrubbed
            )
    interactions = (
        await session.execute(select(BotInteraction).where(BotInteraction.message_id == message.id))
    ).scalars()
    for interaction in interactions:
        interaction.details = {"redacted": "the customer deleted this message"}


async def apply_edit(session: AsyncSession, *, channel: Channel, edit: InboundEdit) -> Message | None:
    """The customer's edit replaces the text; each earlier version is kept in content["edits"] with when it
    was replaced. An edit older than the last one applied (out-of-order delivery) changes nothing."""
    message = await _target(session, channel, edit.target_provider_id)
    if message is None:
        await keep_early(session, channel, edit.target_provider_id, kind="edited", text=edit.text, at=edit.timestamp)
        return None
    if message.direction != Direction.inbound.value or (message.content or {}).get("deleted"):
        return None
    content = dict(message.content or {})
    edits = [dict(e) for e in content.get("edits") or []]
    at = (edit.timestamp or utcnow()).isoformat()
    if edit.text == message.text or (edits and str(edits[-1].get("replaced_at", "")) > at):
        return message
    attachments = list((await session.execute(select(Attachment).where(Attachment.message_id == message.id))).scalars())
    old_preview = message_preview(message.text, message.content, attachments)
    edits.append({"text": message.text, "replaced_at": at})
    content["edits"] = edits
    message.content = content
    message.text = edit.text
    await message_changed(session, message, created=False, attachments=attachments)
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    if conversation.last_message_preview == old_preview:
        conversation.last_message_preview = message_preview(message.text, message.content, attachments)
        await conversation_changed(session, conversation, channel=channel)
    return message


async def apply_number_change(session: AsyncSession, *, channel: Channel, change: IdentityChanged) -> Message | None:
    """Re-key (kind, old id) → (kind, new id) on the same contact and record a system message in the
    contact's latest conversation on this channel. If the new id already belongs to a contact (its first
    message arrived before this event), both stay as they are: contacts are never merged automatically."""
    existing = (
        await session.execute(
            select(Message).where(
                Message.channel_id == channel.id, Message.provider_message_id == change.provider_message_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    kind = adapter_class(channel.kind).identity_kind(channel.id)
    old = (
        await session.execute(
            select(ContactIdentity)
            .where(ContactIdentity.kind == kind, ContactIdentity.provider_id == change.contact.provider_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if old is None:
        return None
    taken = (
        await session.execute(
            select(ContactIdentity.id).where(
                ContactIdentity.kind == kind, ContactIdentity.provider_id == change.new_provider_id
            )
        )
    ).scalar_one_or_none()
    rekeyed = taken is None
    if rekeyed:
        old.provider_id = change.new_provider_id
        contact = await session.get(Contact, old.contact_id)
        if contact is not None and kind == "whatsapp":
            contact.phone = "+" + change.new_provider_id.lstrip("+")
    else:
        log.warning("number change to an id that already has a contact; contacts left apart")
    conversation = (
        await session.execute(
            select(Conversation)
            .where(Conversation.channel_id == channel.id, Conversation.contact_id == old.contact_id)
            .order_by(Conversation.id.desc())
            .limit(1)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if conversation is None:
        return None
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.inbound.value,
        author_kind=AuthorKind.system.value,
        text=change.text,
        content_type="system",
        content={
            "system": {
                "type": "number_changed",
                "old_id": change.contact.provider_id,
                "new_id": change.new_provider_id,
                "rekeyed": rekeyed,
            }
        },
        provider_message_id=change.provider_message_id,
        delivery_state=DeliveryState.received.value,
        provider_timestamp=min(change.timestamp, utcnow()) if change.timestamp else utcnow(),
    )
    session.add(message)
    await session.flush()
    await message_changed(session, message, created=True, attachments=[])
    return message
