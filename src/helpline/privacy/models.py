"""Table: data-deletion and deauthorisation requests received from providers (no personal data kept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.clock import utcnow
from helpline.platform.db import Base, BigId, IdMixin


class DeletionRequest(IdMixin, Base):
    __tablename__ = "privacy_deletion_requests"

    provider: Mapped[str] = mapped_column(String(32))  # meta
    kind: Mapped[str] = mapped_column(String(32))  # data_deletion | deauthorize
    # What Meta shows the person and what our status page is keyed by.
    confirmation_code: Mapped[str] = mapped_column(String(40), unique=True)
    # A keyed digest of the provider's user id: lets us spot a repeated request without keeping the id.
    subject_digest: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # completed | no_data | recorded
    contacts_erased: Mapped[int] = mapped_column(default=0)
    messages_erased: Mapped[int] = mapped_column(default=0)
    attachments_erased: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class LegalHold(IdMixin, Base):
    """Suspends retention (and erasure) for a contact or a conversation until it is released."""

    __tablename__ = "privacy_legal_holds"

    contact_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("operators.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionPolicy(IdMixin, Base):
    """How long resolved conversations are kept: per channel, or globally (channel_id NULL)."""

    __tablename__ = "privacy_retention_policies"

    channel_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"), unique=True)
    days: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
