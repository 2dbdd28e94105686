"""The channel adapter contract: normalized inbound events, outbound messages, receipts and errors.

Adapters verify and parse provider webhooks (pure, no I/O), send messages through an HTTP client they are
given, and never touch the database. Domain code talks to them only through this module and the registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel

from helpline.channels.limits import SendLimits


class WebhookRejected(Exception):
    """The webhook's signature (or verification token) is missing or wrong: store nothing, answer 401."""


class PayloadInvalid(Exception):
    """The webhook body is not what the provider's contract says: store nothing, answer 400."""


class DeliveryError(Exception):
    """A send failed. Retryable errors are retried with backoff; permanent ones mark the message failed."""

    def __init__(self, reason: str, *, retryable: bool, code: str | None = None, needs_reauth: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.needs_reauth = needs_reauth


@dataclass(frozen=True)
class InboundContact:
    provider_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True)
class InboundAttachment:
    """Either the bytes themselves, or where a worker can fetch them (a URL or a provider media id)."""

    filename: str
    content_type: str
    data: bytes | None = None
    source_url: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    contact: InboundContact
    provider_message_id: str
    text: str | None
    timestamp: datetime | None = None
    content_type: str = "text"
    content: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[InboundAttachment, ...] = ()
    reply_to_provider_id: str | None = None
    # A message the business sent from outside Helpline (e.g. a person in Meta's Page inbox): stored as
    # outbound, `contact` is then the recipient.
    echo: bool = False
    # An ad / referral source id (e.g. click-to-WhatsApp ad); the channel's `referral_events` maps it to an event.
    referral_id: str | None = None
    # Provider ids of earlier messages this one answers, most specific first (mail: In-Reply-To, then
    # References): the first one Helpline knows on this channel picks the conversation.
    thread_refs: tuple[str, ...] = ()
    # A conversation id the message names itself (mail: a `[#123]` subject token or a plus-address tag);
    # used only when it belongs to the same contact on the same channel.
    conversation_ref: int | None = None
    # A message that starts a new thread by nature (a new mail): opens a new conversation unless the channel's
    # settings say `continue_open_conversation`.
    starts_thread: bool = False
    # Sent by a machine (auto-reply, list, delivery notice; RFC 3834): stored and shown, never answered by the bot.
    automated: bool = False


@dataclass(frozen=True)
class InboundReaction:
    """A customer reacted to (or, with no emoji, un-reacted to) one of the conversation's messages."""

    contact: InboundContact
    target_provider_id: str
    emoji: str | None
    timestamp: datetime | None = None


@dataclass(frozen=True)
class DeliveryWatermark:
    """Every outbound message to this contact sent up to `watermark` was delivered / read (Messenger)."""

    contact_provider_id: str
    state: str  # delivered | read
    watermark: datetime


@dataclass(frozen=True)
class TemplateStatusChanged:
    """The provider approved, rejected, paused… a message template."""

    name: str
    language: str | None
    status: str
    provider_template_id: str | None = None
    reason: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class DeliveryStatusChanged:
    provider_message_id: str
    state: str  # sent | delivered | read | failed
    timestamp: datetime | None = None
    error_code: str | None = None
    error_reason: str | None = None


@dataclass(frozen=True)
class InboundDeletion:
    """The customer withdrew a message (Instagram unsend: `message.is_deleted`): its content must go."""

    contact: InboundContact
    target_provider_id: str
    timestamp: datetime | None = None


@dataclass(frozen=True)
class InboundEdit:
    """The customer edited a message (Meta `message_edit`): the new text replaces the old, which is kept."""

    contact: InboundContact
    target_provider_id: str
    text: str
    timestamp: datetime | None = None
    edit_count: int | None = None


@dataclass(frozen=True)
class IdentityChanged:
    """The customer's provider id changed (WhatsApp `system.type == user_changed_number`): same person,
    new id. Recorded as a system event in the conversation; it is not the customer writing."""

    contact: InboundContact  # the old id
    new_provider_id: str
    provider_message_id: str
    text: str
    timestamp: datetime | None = None


InboundEvent = (
    InboundMessage
    | DeliveryStatusChanged
    | InboundReaction
    | DeliveryWatermark
    | TemplateStatusChanged
    | InboundDeletion
    | InboundEdit
    | IdentityChanged
)


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content_type: str
    size: int
    url: str  # a signed, short-lived download URL on Helpline
    data: bytes | None = None


@dataclass(frozen=True)
class ThreadEntry:
    """An earlier message of the conversation that has a provider id (oldest first in `OutboundMessage.thread`)."""

    provider_message_id: str
    inbound: bool
    content: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    conversation_id: int
    idempotency_key: str
    recipient_id: str
    text: str | None
    author_kind: str
    author_name: str | None = None
    attachments: tuple[OutboundAttachment, ...] = ()
    reply_to_provider_id: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    # The conversation's earlier messages with provider ids, oldest first (mail threads with them).
    thread: tuple[ThreadEntry, ...] = ()
    # A message that goes out in several provider requests (text, then each file): the parts the provider
    # already accepted on an earlier attempt (part key → provider id), never sent again…
    sent_parts: Mapping[str, str] = field(default_factory=dict)
    # …and how the adapter reports each part as soon as the provider accepts it (persisted by the caller).
    record_part: Callable[[str, str], Awaitable[None]] | None = None

    async def send_part(self, key: str, send: Callable[[], Awaitable[SentReceipt]]) -> SentReceipt:
        """Run `send` for part `key` unless an earlier attempt got it accepted; record what it returns."""
        if key in self.sent_parts:
            return SentReceipt(provider_message_id=self.sent_parts[key])
        receipt = await send()
        if self.record_part is not None and receipt.provider_message_id:
            await self.record_part(key, receipt.provider_message_id)
        return receipt


@dataclass(frozen=True)
class SentReceipt:
    provider_message_id: str | None
    timestamp: datetime | None = None
    # What the provider was sent that the message should keep, merged into its `content` by the caller: e.g. an
    # e-mail's subject and threading headers (content["email"], the shape inbound mails have).
    content: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplyWindow:
    """A provider's free-form reply window, counted from the customer's last inbound message."""

    free_form: timedelta
    human_extension: timedelta | None = None  # e.g. Messenger's HUMAN_AGENT tag: humans only
    closing_warning: timedelta = timedelta(hours=1)
    templates: bool = False  # approved templates may be sent outside the window (WhatsApp)


@dataclass(frozen=True)
class ChannelConfig:
    """What an adapter needs of a channel row, with its credentials decrypted."""

    id: int
    kind: str
    name: str
    credentials: Mapping[str, Any]
    settings: Mapping[str, Any]
    # Process-wide provider options from Settings (e.g. the Meta Graph URL and app id); see channels.actions.
    platform: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedChannel:
    """A validated configuration to store, and secrets to show the admin once (e.g. a signing secret)."""

    credentials: dict[str, Any]
    settings: dict[str, Any]
    reveal: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderTemplate:
    """A message template as the provider lists it."""

    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    provider_template_id: str | None = None


@runtime_checkable
class TemplateSource(Protocol):
    """Adapters whose provider keeps approved message templates (WhatsApp)."""

    async def list_templates(self) -> list[ProviderTemplate]: ...


class ChannelAdapter(Protocol):
    kind: ClassVar[str]
    window: ClassVar[ReplyWindow | None]
    limits: ClassVar[SendLimits]  # text length, file types and sizes the provider accepts in one reply
    settings_model: ClassVar[type[BaseModel]]
    credentials_model: ClassVar[type[BaseModel]]

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None: ...

    @classmethod
    def prepare(cls, credentials: Mapping[str, Any], settings: Mapping[str, Any]) -> PreparedChannel: ...

    @classmethod
    def identity_kind(cls, channel_id: int) -> str: ...

    @classmethod
    def outbound_urls(cls, settings: Mapping[str, Any]) -> list[str]: ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None: ...

    def parse_webhook(self, body: bytes) -> list[InboundEvent]: ...

    async def send(self, message: OutboundMessage) -> SentReceipt: ...

    async def fetch_attachment(self, source_url: str, max_bytes: int) -> tuple[bytes, str]: ...
