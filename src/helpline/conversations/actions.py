"""Writes for messages: what comes in and what goes out, each one transaction with its outbox rows.

`receive_inbound` is the only way a customer's message enters; `send_reply` is the only way a reply leaves,
for operators and the bot alike: it is the one place that enforces the reply window and the bot pause.
Changes of who handles a conversation and its status live in `handling.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.actions import queue_fetch, safe_filename, store_bytes
from helpline.attachments.models import Attachment
from helpline.audit.actions import record
from helpline.auth.models import Operator
from helpline.channels.base import DeliveryStatusChanged, InboundAttachment, InboundMessage
from helpline.channels.models import Channel
from helpline.channels.registry import adapter_class
from helpline.contacts.actions import contact_for_identity
from helpline.contacts.profiles import ask_profile
from helpline.conversations import provider_time, waiting
from helpline.conversations.copies import copied_conversation
from helpline.conversations.customer_changes import with_early_changes
from helpline.conversations.events import conversation_changed, message_changed
from helpline.conversations.models import (
    AuthorKind,
    Conversation,
    DeliveryState,
    Direction,
    Handler,
    Message,
    Priority,
    Status,
)
from helpline.conversations.previews import message_preview
from helpline.conversations.provider_events import claim_own_echo
from helpline.conversations.schemas import TemplateSend
from helpline.conversations.timeline import TOOK_OVER, record_event
from helpline.engagement.reply_limits import check_reply
from helpline.engagement.templates import resolve_send
from helpline.engagement.windows import check_reply_allowed
from helpline.platform.clock import utcnow
from helpline.platform.errors import Conflict, Invalid, NotFound, TooLarge
from helpline.platform.outbox import enqueue
from helpline.platform.sanitize import is_blank
from helpline.platform.storage import BlobStore

DELIVERY_TOPIC = "delivery.send"
ROUTING_TOPIC = "routing.inbound"
PROVIDER_PRECISION = timedelta(seconds=1)
# session.info key: {(channel id, contact id): the contact's current conversation there (locked), or None},
# filled for a whole batch in one query (`batch_lookups.py`); kept current as conversations are opened.
OPEN_CONVERSATIONS = "open_conversations"


class BotPaused(Conflict):
    code = "bot_paused"


@dataclass(frozen=True)
class Author:
    kind: AuthorKind
    operator_id: int | None = None

    @classmethod
    def operator(cls, operator_id: int) -> Author:
        return cls(AuthorKind.operator, operator_id)


BOT = Author(AuthorKind.bot)
SYSTEM = Author(AuthorKind.system)


@dataclass(frozen=True)
class Upload:
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class InboundOutcome:
    message: Message
    conversation: Conversation
    duplicate: bool
    attachments: list[Attachment] = field(default_factory=list)


async def _threaded_conversation(
    session: AsyncSession, channel: Channel, contact_id: int, inbound: InboundMessage
) -> Conversation | None:
    """The open conversation this message answers: by the provider ids it refers to (most specific first),
    then by the conversation id it names — that one only when it is the same contact's, on this channel."""
    if inbound.thread_refs:
        rows = (
            await session.execute(
                select(Message.provider_message_id, Message.conversation_id).where(
                    Message.channel_id == channel.id, Message.provider_message_id.in_(inbound.thread_refs[:50])
                )
            )
        ).all()
        found = {str(ref): conversation_id for ref, conversation_id in rows}
        for ref in inbound.thread_refs:
            if ref in found:
                conversation = await lock_conversation(session, found[ref])
                if conversation.status != Status.resolved.value:
                    return conversation
                break
    if inbound.conversation_ref is not None:
        named = (
            await session.execute(
                select(Conversation)
                .where(
                    Conversation.id == inbound.conversation_ref,
                    Conversation.channel_id == channel.id,
                    Conversation.contact_id == contact_id,
                    Conversation.status != Status.resolved.value,
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
        if named is not None:
            return named
    return None


async def _conversation_for(
    session: AsyncSession, channel: Channel, contact_id: int, inbound: InboundMessage, *, new_contact: bool = False
) -> tuple[Conversation, bool]:
    """Where an inbound message goes: the thread it answers, else the contact's open conversation — or a new
    one for a message that starts a thread (unless the channel's `continue_open_conversation` is set), or
    from a contact created in this transaction (who cannot have an open conversation yet: no query then)."""
    threaded = await _threaded_conversation(session, channel, contact_id, inbound)
    if threaded is not None:
        return threaded, False
    fresh = inbound.starts_thread and not (channel.settings or {}).get("continue_open_conversation", False)
    return await _open_conversation(session, channel, contact_id, fresh=fresh or new_contact)


async def _open_conversation(
    session: AsyncSession, channel: Channel, contact_id: int, *, fresh: bool = False
) -> tuple[Conversation, bool]:
    """The contact's current conversation on this channel; a new one after the last was resolved, or always
    when `fresh`."""
    known: dict[tuple[int, int], Conversation | None] | None = session.info.get(OPEN_CONVERSATIONS)
    key = (channel.id, contact_id)
    current = (
        None
        if fresh
        else known[key]
        if known is not None and key in known
        else (
            await session.execute(
                select(Conversation)
                .where(
                    Conversation.channel_id == channel.id,
                    Conversation.contact_id == contact_id,
                    Conversation.status != Status.resolved.value,
                )
                .order_by(Conversation.id.desc())
                .limit(1)
                .with_for_update()
            )
        ).scalar_one_or_none()
    )
    if current is not None:
        return current, False
    bot_first = bool((channel.settings or {}).get("bot_enabled", False))
    conversation = Conversation(
        channel_id=channel.id,
        contact_id=contact_id,
        # A bot-handled conversation is "pending" until a human is needed (then "open").
        status=(Status.pending if bot_first else Status.open).value,
        handler=(Handler.bot if bot_first else Handler.human).value,
        event_id=channel.default_event_id,
        priority=Priority.none.value,
        tags=[],
        bot_state={},
        last_activity_at=utcnow(),
    )
    session.add(conversation)
    await session.flush()
    if known is not None:
        known[key] = conversation
    return conversation, True


async def _inbound_attachment(
    session: AsyncSession, blobs: BlobStore, item: InboundAttachment, message_id: int
) -> Attachment:
    """Store (or queue) one received file. A file we refuse (type, size) is recorded as failed with the
    reason, and the customer's message is kept: refusing the whole message would lose what they wrote."""
    try:
        if item.data is not None:
            return store_bytes(
                session,
                blobs,
                data=item.data,
                filename=item.filename,
                content_type=item.content_type,
                message_id=message_id,
            )
        blobs.check_type(item.content_type)
        return await queue_fetch(
            session,
            source_url=item.source_url or "",
            filename=item.filename,
            content_type=item.content_type,
            message_id=message_id,
        )
    except (Invalid, TooLarge) as exc:
        failed = Attachment(
            message_id=message_id,
            filename=safe_filename(item.filename),
            content_type=item.content_type,
            size=len(item.data or b""),
            state="failed",
            error=exc.message,
        )
        session.add(failed)
        return failed


async def receive_inbound(
    session: AsyncSession,
    *,
    channel: Channel,
    inbound: InboundMessage,
    blobs: BlobStore,
    known_new: bool = False,
) -> InboundOutcome:
    """Persist one customer message: contact, conversation, message, attachments and outbox rows.

    A provider id seen before returns the existing message (webhook retries are harmless); the unique
    (channel, provider id) constraint closes the race between two concurrent deliveries of the same id.
    `known_new`: the caller looked the provider id up in this transaction already (a batch does it for all
    its messages in one query) and found neither a stored message nor an early unsend/edit of it, so both
    lookups are skipped.
    """
    existing = (
        None
        if known_new
        else (
            await session.execute(
                select(Message).where(
                    Message.channel_id == channel.id, Message.provider_message_id == inbound.provider_message_id
                )
            )
        ).scalar_one_or_none()
    )
    if existing is not None:
        conversation = await session.get(Conversation, existing.conversation_id)
        assert conversation is not None
        return InboundOutcome(message=existing, conversation=conversation, duplicate=True)
    if not known_new:
        # An unsend or edit that came first: the message is stored as the customer left it.
        inbound = await with_early_changes(session, channel.id, inbound)

    # A mail answering a chat reply we e-mailed joins that chat (conversations/copies.py has the rule): the
    # chat's contact wrote it, so no contact is looked up or created for the sender.
    copied = await copied_conversation(session, channel, inbound)
    if copied is not None:
        conversation, created = copied, False
    else:
        identity_kind = adapter_class(channel.kind).identity_kind(channel.id)
        contact, new_contact = await contact_for_identity(session, identity_kind, inbound.contact)
        if new_contact:
            ask_profile(session, channel, contact, inbound.contact)  # Messenger/Instagram send only an id
        conversation, created = await _conversation_for(session, channel, contact.id, inbound, new_contact=new_contact)
    _apply_referral(channel, conversation, inbound.referral_id, created=created)
    if inbound.echo and (own := await claim_own_echo(session, conversation.id, inbound)) is not None:
        return InboundOutcome(message=own, conversation=conversation, duplicate=True)
    now = utcnow()
    # The provider's timestamp counts for the reply window, never the time we received it; a clock skewed
    # into the future is capped at now, and one outside the plausible window (year 1, 2099) is replaced by
    # the receive time with the provider's value kept in the content (conversations/provider_time.py).
    happened_at, implausible = provider_time.happened_at(inbound.timestamp, now)

    reply_to_id = None
    if inbound.reply_to_provider_id:
        reply_to_id = (
            await session.execute(
                select(Message.id).where(
                    Message.channel_id == channel.id,
                    Message.provider_message_id == inbound.reply_to_provider_id,
                )
            )
        ).scalar_one_or_none()
    # A provider's system notice (e.g. WhatsApp's customer_identity_changed) is no customer writing.
    system = inbound.content_type == "system" and not inbound.echo
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=(Direction.outbound if inbound.echo else Direction.inbound).value,
        # An echo was written by a person in the provider's own inbox: an operator Helpline does not know.
        author_kind=(
            AuthorKind.operator if inbound.echo else (AuthorKind.system if system else AuthorKind.contact)
        ).value,
        text=inbound.text,
        content_type=inbound.content_type,
        content={
            **inbound.content,
            **({"sent_outside_helpline": True} if inbound.echo else {}),
            **({"implausible_provider_timestamp": implausible.isoformat()} if implausible else {}),
        },
        provider_message_id=inbound.provider_message_id,
        reply_to_id=reply_to_id,
        delivery_state=(DeliveryState.sent if inbound.echo else DeliveryState.received).value,
        provider_timestamp=happened_at,
    )
    session.add(message)
    await session.flush()

    attachments = [await _inbound_attachment(session, blobs, item, message.id) for item in inbound.attachments]
    if attachments:
        await session.flush()
    if inbound.echo:
        await _record_echo(session, conversation, message, attachments, created=created, channel=channel)
        return InboundOutcome(message=message, conversation=conversation, duplicate=False, attachments=attachments)

    if system:
        await message_changed(session, message, created=True, attachments=attachments)
        return InboundOutcome(message=message, conversation=conversation, duplicate=False, attachments=attachments)
    if conversation.last_inbound_at is None or happened_at > conversation.last_inbound_at:
        conversation.last_inbound_at = happened_at
    # Provider time is the truth: a message delivered late (a retried webhook) never becomes the preview
    # over one that happened after it. WhatsApp counts in whole seconds: within one second of the latest
    # message, the one received last is taken as the newer.
    latest = conversation.last_message_at
    if latest is None or happened_at + PROVIDER_PRECISION > latest:
        conversation.last_message_at = max(happened_at, latest) if latest else happened_at
        conversation.last_message_preview = message_preview(inbound.text, inbound.content, attachments)
        conversation.last_message_author = AuthorKind.contact.value
        conversation.last_message_author_name = None
    conversation.last_activity_at = now
    conversation.unread_count += 1
    waiting.customer_wrote(conversation, happened_at)
    if conversation.status == Status.snoozed.value:
        # The customer wrote back: a snoozed conversation wakes up.
        conversation.status = Status.open.value
        conversation.snoozed_until = None

    await conversation_changed(session, conversation, created=created, channel=channel)
    await message_changed(
        session, message, created=True, attachments=attachments, audience_channel_id=conversation.channel_id
    )
    # Answering an auto-reply, a list or a delivery notice automatically starts mail loops (RFC 3834); a
    # message withdrawn before it arrived leaves nothing to answer.
    # Only the bot has work to do on a new message; a human queue needs none (the frame above told the
    # operators). The routing handler checks the handler again, so a person who takes over meanwhile wins.
    if conversation.handler == Handler.bot.value and not inbound.automated and message.content_type != "deleted":
        enqueue(session, ROUTING_TOPIC, {"conversation_id": conversation.id, "message_id": message.id})
    return InboundOutcome(message=message, conversation=conversation, duplicate=False, attachments=attachments)


def _apply_referral(channel: Channel, conversation: Conversation, referral_id: str | None, *, created: bool) -> None:
    """An ad or referral the channel maps to an event sets the conversation's event, unless someone (an
    operator, the bot) already chose another one than the channel's default."""
    if not referral_id:
        return
    mapped = ((channel.settings or {}).get("referral_events") or {}).get(referral_id)
    if mapped is not None and (created or conversation.event_id in (None, channel.default_event_id)):
        conversation.event_id = int(mapped)


async def _record_echo(
    session: AsyncSession,
    conversation: Conversation,
    message: Message,
    attachments: list[Attachment],
    *,
    created: bool,
    channel: Channel,
) -> None:
    """A reply someone sent from the provider's inbox: shown, but it is no customer message (no window, no
    unread, no routing). A person answered, so the bot steps back as it does for an operator's reply."""
    now = utcnow()
    conversation.last_message_at = now
    conversation.last_activity_at = now
    conversation.last_message_preview = message_preview(message.text, message.content, attachments)
    conversation.last_message_author = AuthorKind.operator.value
    conversation.last_message_author_name = None
    waiting.answered(conversation)
    if conversation.handler == Handler.bot.value:
        await hand_to_human(session, conversation, None, reason="a person replied from outside Helpline")
    await conversation_changed(session, conversation, created=created, channel=channel)
    await message_changed(session, message, created=True, attachments=attachments)


async def apply_delivery_status(
    session: AsyncSession, *, channel_id: int, status: DeliveryStatusChanged
) -> Message | None:
    """Move an outbound message forward (sent → delivered → read) or to failed; never backwards, because
    providers deliver status webhooks out of order."""
    message = (
        await session.execute(
            select(Message)
            .where(Message.channel_id == channel_id, Message.provider_message_id == status.provider_message_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if message is None:
        return None
    new = DeliveryState(status.state)
    current = DeliveryState(message.delivery_state)
    if new == DeliveryState.failed:
        # A message the customer already received or read cannot have failed; a late or replayed
        # "failed" must not contradict what the operator was shown.
        if current in (DeliveryState.failed, DeliveryState.delivered, DeliveryState.read):
            return message
        message.error_code = status.error_code
        message.error_reason = status.error_reason
    elif current == DeliveryState.failed or new.rank <= current.rank:
        return message
    message.delivery_state = new.value
    await message_changed(session, message, created=False)
    return message


async def lock_conversation(session: AsyncSession, conversation_id: int) -> Conversation:
    conversation = (
        await session.execute(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
    ).scalar_one_or_none()
    if conversation is None:
        raise NotFound("no such conversation")
    return conversation


async def send_reply(
    session: AsyncSession,
    *,
    conversation_id: int,
    author: Author,
    text: str | None,
    blobs: BlobStore,
    uploads: list[Upload] | None = None,
    reply_to_id: int | None = None,
    content: dict[str, object] | None = None,
    template: TemplateSend | None = None,
    client_id: str | None = None,
) -> Message:
    """Queue a reply from an operator, the bot or the system. Refuses when the bot is paused for this
    conversation, the channel's reply window forbids free text, or the provider would refuse the text's
    length or a file (ReplyRefused, 422); delivery happens from the outbox.
    A `template` (approved, parameters checked) replaces text and files, and may go out after the window.
    `client_id` is stored as given; callers wanting idempotency look it up first (`find_by_client_id`)."""
    uploads = uploads or []
    if template is not None and (not is_blank(text) or uploads):
        raise Invalid("send a template on its own: its text comes from the template", code="template_with_text")
    if is_blank(text) and not uploads and template is None:
        raise Invalid(
            "a reply needs text or at least one file (spaces and invisible characters such as zero-width spaces "
            "are not text)",
            code="empty_reply",
        )
    conversation = await lock_conversation(session, conversation_id)
    if author.kind == AuthorKind.bot and conversation.handler != Handler.bot.value:
        # Checked under the row lock: a takeover committed before this point always wins.
        raise BotPaused("a human has taken over this conversation; the bot is paused for it")
    channel = await session.get(Channel, conversation.channel_id)
    assert channel is not None
    now = utcnow()
    send_options = check_reply_allowed(
        adapter_class(channel.kind).window,
        conversation.last_inbound_at,
        author_kind=author.kind.value,
        now=now,
        template=template is not None,
    )
    if template is not None:
        payload, text = await resolve_send(session, channel, template)
        content = {**(content or {}), "template": payload}
    else:
        check_reply(channel.kind, text, [(u.filename, u.content_type, len(u.data)) for u in uploads])
    if reply_to_id is not None:
        target = await session.get(Message, reply_to_id)
        if target is None or target.conversation_id != conversation.id:
            raise Invalid("reply_to_id is not a message of this conversation")
    if author.kind == AuthorKind.operator and conversation.handler == Handler.bot.value:
        # An operator who writes takes the conversation (the timeline shows that before the reply): the bot
        # must never talk over a human.
        await hand_to_human(session, conversation, author.operator_id, reason="operator replied")
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.outbound.value,
        author_kind=author.kind.value,
        operator_id=author.operator_id,
        text=text,
        content_type="template" if template is not None else ("text" if not uploads else "attachment"),
        content={**(content or {}), **({"send_options": send_options} if send_options else {})},
        reply_to_id=reply_to_id,
        delivery_state=DeliveryState.queued.value,
        client_id=client_id,
    )
    session.add(message)
    await session.flush()
    attachments = [
        store_bytes(
            session,
            blobs,
            data=u.data,
            filename=u.filename,
            content_type=u.content_type,
            message_id=message.id,
        )
        for u in uploads
    ]
    if attachments:
        await session.flush()

    conversation.last_message_at = now
    conversation.last_activity_at = now
    conversation.last_message_preview = message_preview(text, None, attachments)
    conversation.last_message_author = author.kind.value
    conversation.last_message_author_name = None
    if author.kind in (AuthorKind.operator, AuthorKind.bot):
        # The system's notices (the hand-off) answer nothing: the customer still waits for a person.
        waiting.answered(conversation)
    if author.kind == AuthorKind.operator:
        operator = await session.get(Operator, author.operator_id) if author.operator_id else None
        conversation.last_message_author_name = operator.name if operator else None
        conversation.unread_count = 0
    enqueue(session, DELIVERY_TOPIC, {"message_id": message.id})
    await message_changed(session, message, created=True, attachments=attachments)
    await conversation_changed(session, conversation)
    return message


async def find_by_client_id(session: AsyncSession, conversation_id: int, client_id: str) -> Message | None:
    """The message a client already sent in this conversation with this client id, if any."""
    return (
        await session.execute(
            select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
        )
    ).scalar_one_or_none()


async def hand_to_human(
    session: AsyncSession, conversation: Conversation, operator_id: int | None, *, reason: str
) -> None:
    """Handler → human (pending or snoozed → open), assignee → `operator_id` when nobody has it; audited
    and recorded in the timeline as "took_over" (actor null when a person replied from outside Helpline)."""
    conversation.handler = Handler.human.value
    if conversation.status in (Status.pending.value, Status.snoozed.value):
        conversation.status = Status.open.value
    if operator_id is not None and conversation.assignee_id is None:
        conversation.assignee_id = operator_id
    record(
        session,
        operator_id=operator_id,
        action="conversation.takeover",
        target_type="conversation",
        target_id=conversation.id,
        details={"reason": reason},
    )
    await record_event(session, conversation, TOOK_OVER, actor_id=operator_id)
