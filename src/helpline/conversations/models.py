"""Tables: conversations and messages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.clock import utcnow
from helpline.platform.db import Base, BigId, IdMixin, TimestampMixin


class Status(enum.StrEnum):
    open = "open"
    pending = "pending"
    resolved = "resolved"
    snoozed = "snoozed"


class Handler(enum.StrEnum):
    bot = "bot"
    human = "human"


class Priority(enum.StrEnum):
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class Direction(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class AuthorKind(enum.StrEnum):
    contact = "contact"
    bot = "bot"
    operator = "operator"
    system = "system"


class DeliveryState(enum.StrEnum):
    received = "received"  # inbound messages
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    internal = "internal"  # timeline events: never delivered to any provider

    @property
    def rank(self) -> int:
        order = ["received", "queued", "sent", "delivered", "read"]
        return order.index(self.value) if self.value in order else 99


class Conversation(IdMixin, TimestampMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_activity", "last_activity_at", "id"),
        Index("ix_conversations_channel_contact", "channel_id", "contact_id", "status"),
        # sort=waiting: oldest unanswered customer message first.
        Index("ix_conversations_waiting", "waiting_since", "id"),
        # window=open|closing|closed: ranges of last_inbound_at.
        Index("ix_conversations_last_inbound_at", "last_inbound_at"),
        # A contact's other conversations, newest activity first (and the contact_id foreign key's index).
        Index("ix_conversations_contact_activity", "contact_id", "last_activity_at", "id"),
        # One filter of the inbox list with its default sort: the page straight from the index, in order
        # (0012_read_indexes). The prefix also serves the foreign keys and equality lookups.
        Index("ix_conversations_status_activity", "status", "last_activity_at", "id"),
        Index("ix_conversations_priority_activity", "priority", "last_activity_at", "id"),
        Index("ix_conversations_assignee_activity", "assignee_id", "last_activity_at", "id"),
        Index("ix_conversations_channel_activity", "channel_id", "last_activity_at", "id"),
        Index("ix_conversations_event_activity", "event_id", "last_activity_at", "id"),
        # PostgreSQL also has ix_conversations_tags, GIN over (tags::jsonb), made by the migration.
    )

    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=Status.open.value)
    handler: Mapped[str] = mapped_column(String(8), default=Handler.human.value)
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("operators.id", ondelete="SET NULL"))
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(8), default=Priority.none.value)
    tags: Mapped[list[str]] = mapped_column(default=list)
    snoozed_until: Mapped[datetime | None]
    # Provider timestamp of the customer's latest message: the reply windows count from it.
    last_inbound_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    # Sort key of the inbox: the latest activity, as Helpline saw it.
    last_activity_at: Mapped[datetime]
    last_message_preview: Mapped[str | None] = mapped_column(String(300))
    last_message_author: Mapped[str | None] = mapped_column(String(16))
    # The operator's name for an operator's message (the contact's name is read from the contact).
    last_message_author_name: Mapped[str | None] = mapped_column(String(200))
    # When the customer started waiting for a person's answer: set by their first message no one has
    # answered (or by an escalation), cleared by an operator's reply. See conversations/waiting.py.
    waiting_since: Mapped[datetime | None]
    unread_count: Mapped[int] = mapped_column(default=0)
    bot_state: Mapped[dict[str, Any]] = mapped_column(default=dict)


def _occurred_at(context: DefaultExecutionContext) -> datetime:
    """When the message happened: the provider's timestamp for what a provider reports (a late webhook is
    placed where it belongs), capped at now (a skewed clock never puts it ahead of what Helpline stored
    later); now for what Helpline itself writes. A column default, so every insert path sets it."""
    now = utcnow()
    params: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]  # unannotated upstream
    reported = params.get("provider_timestamp")
    return min(reported, now) if isinstance(reported, datetime) else now


class Message(IdMixin, TimestampMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A provider retrying a webhook can never create the same message twice.
        UniqueConstraint("channel_id", "provider_message_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        # The timeline's order and keyset (conversations.queries.list_messages).
        Index("ix_messages_conversation_occurred", "conversation_id", "occurred_at", "id"),
        # The composer's client id makes a retried send return the first message instead of a second one.
        Index("uq_messages_conversation_client_id", "conversation_id", "client_id", unique=True),
    )

    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))
    author_kind: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("operators.id", ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(32), default="text")
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    reply_to_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    delivery_state: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_reason: Mapped[str | None] = mapped_column(Text)
    # When the provider says the message happened (inbound) or was accepted (outbound).
    provider_timestamp: Mapped[datetime | None]
    # The message's place in the timeline; set once, when the row is inserted (see _occurred_at).
    occurred_at: Mapped[datetime] = mapped_column(default=_occurred_at)
    client_id: Mapped[str | None] = mapped_column(String(64))


class EarlyChange(IdMixin, TimestampMixin, Base):
    """A customer's unsend or edit that arrived before the message it names (webhooks are not ordered): kept
    so the message, when it comes, is stored already withdrawn or edited (conversations/customer_changes.py)."""

    __tablename__ = "early_changes"
    __table_args__ = (Index("ix_early_changes_target", "channel_id", "provider_message_id"),)

    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"))
    provider_message_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # deleted | edited
    text: Mapped[str | None] = mapped_column(Text)  # the edited text
    happened_at: Mapped[datetime]
