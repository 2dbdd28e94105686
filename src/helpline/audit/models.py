"""Table: audit log entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.clock import utcnow
from helpline.platform.db import Base, BigId, IdMixin


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    operator_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("operators.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(BigId)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Where the request came from (after trusted-proxy resolution), for entries made by a request.
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
