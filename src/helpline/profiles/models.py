"""Tables: profiles and events."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.db import Base, BigId, IdMixin, TimestampMixin


class Profile(IdMixin, TimestampMixin, Base):
    __tablename__ = "profiles"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    # No foreign key: attachments reference messages, and a cycle of keys would complicate migrations.
    logo_attachment_id: Mapped[int | None] = mapped_column(BigId)


class Event(IdMixin, TimestampMixin, Base):
    __tablename__ = "events"

    profile_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("profiles.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    # No foreign key: attachments reference messages, and a cycle of keys would complicate migrations.
    logo_attachment_id: Mapped[int | None] = mapped_column(BigId)
