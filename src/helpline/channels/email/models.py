"""Tables: how far each mailbox was read (UIDVALIDITY + last UID), and which process may read it (a lease)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.clock import utcnow
from helpline.platform.db import Base, BigId


class MailboxCursor(Base):
    """RFC 3501 §2.3.1.1: a UID means something only together with the mailbox's UIDVALIDITY."""

    __tablename__ = "mailbox_cursors"

    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MailboxLease(Base):
    """One reader per mailbox across all processes: the holder renews `expires_at`; others wait for it to lapse."""

    __tablename__ = "mailbox_leases"

    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
