"""Tables: contacts, contact identities and operators' notes on contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.clock import utcnow
from helpline.platform.db import Base, BigId, IdMixin, TimestampMixin


class Contact(IdMixin, TimestampMixin, Base):
    __tablename__ = "contacts"

    name: Mapped[str | None] = mapped_column(String(300), index=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(64), index=True)
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Set when this contact was merged into another; kept for the audit trail and for stale links.
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="SET NULL"))


class ContactIdentity(IdMixin, Base):
    """(kind, provider id) → contact. `kind` is the channel kind, or `api:<channel id>` for generic API
    channels, whose ids are only unique within the system that sent them."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "provider_id"),)

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    provider_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactNote(IdMixin, TimestampMixin, Base):
    """A private note operators keep on a contact; never shown to the customer."""

    __tablename__ = "contact_notes"
    __table_args__ = (Index("ix_contact_notes_contact", "contact_id", "id"),)

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    operator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("operators.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
