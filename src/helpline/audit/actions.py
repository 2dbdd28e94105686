"""Writing to the audit log, always inside the transaction of the action it records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.models import AuditEntry


def record(
    session: AsyncSession,
    *,
    operator_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            operator_id=operator_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
        )
    )
