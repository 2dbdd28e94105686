"""Writing to the audit log, always inside the transaction of the action it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from helpline.audit.models import AuditEntry


@dataclass(frozen=True)
class Origin:
    """Where a request came from: the client address (after trusted-proxy resolution) and its user agent."""

    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def of(cls, connection: HTTPConnection) -> Origin:
        agent = connection.headers.get("user-agent")
        return cls(
            ip=connection.client.host if connection.client else None,
            user_agent=agent[:300] if agent else None,
        )


NO_ORIGIN = Origin()


def record(
    session: AsyncSession,
    *,
    operator_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    details: dict[str, Any] | None = None,
    origin: Origin = NO_ORIGIN,
) -> None:
    """Add an audit entry (actor, action, target, details, client address and user agent; the time is set)."""
    session.add(
        AuditEntry(
            operator_id=operator_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
            ip=origin.ip,
            user_agent=origin.user_agent,
        )
    )
