"""Tables: provider message templates (WhatsApp), per channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.db import Base, BigId, IdMixin, TimestampMixin


class MessageTemplate(IdMixin, TimestampMixin, Base):
    __tablename__ = "message_templates"
    # Meta names a template by (name, language): one row per language version.
    __table_args__ = (UniqueConstraint("channel_id", "name", "language"),)

    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32), default="")
    # APPROVED | PENDING | REJECTED | PAUSED | DISABLED | … (provider-contracts §2.5); only APPROVED is sendable.
    status: Mapped[str] = mapped_column(String(32))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    provider_template_id: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(Text)
