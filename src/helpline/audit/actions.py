"""Writing to the audit log, always inside the transaction of the action it records."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

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

# The origin of the request being served, so that every audit entry a request writes carries it, whichever
# action writes it; workers and the CLI have none.
_request_origin: ContextVar[Origin] = ContextVar("audit_request_origin", default=NO_ORIGIN)


class AuditOriginMiddleware:
    """Remember each HTTP/websocket request's client address and user agent for `record` (pure ASGI, so the
    context variable is visible to the endpoint). Installed inside TrustedProxyMiddleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = _request_origin.set(Origin.of(HTTPConnection(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            _request_origin.reset(token)


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
    """Add an audit entry (actor, action, target, details, client address and user agent; the time is set).
    Without an explicit `origin`, the origin of the request being served is used."""
    if origin is NO_ORIGIN:
        origin = _request_origin.get()
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
