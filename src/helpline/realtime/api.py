"""Route: the operators' websocket. Authenticates once, replays what a reconnecting client missed, relays."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, Response, WebSocket
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from helpline.auth.dependencies import CurrentPrincipal, RuntimeDep, get_runtime, resolve_principal
from helpline.auth.permissions import Principal
from helpline.platform.errors import Forbidden, HelplineError, Unauthorized, Unavailable
from helpline.realtime.access import current_principals
from helpline.realtime.hub import RESYNC
from helpline.realtime.sockets import run_until_first_ends
from helpline.runtime import Runtime
from helpline.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter()

PING_SECONDS = 25.0


def origin_allowed(origin: str | None, settings: Settings) -> bool:
    """A browser always sends `Origin` on a websocket handshake and the cookie rides along whatever the page, so
    the origin must be ours (the base URL or HELPLINE_ALLOWED_ORIGINS), or any page could read an operator's
    frames (cross-site websocket hijacking, RFC 6455 §10.2). Clients that send no Origin are not browsers."""
    if origin is None:
        return True
    return origin.rstrip("/").lower() in settings.websocket_origins


class RealtimeTicket(BaseModel):
    ticket: str = Field(description="open /api/v1/realtime?ticket=… with it, once, before it expires")
    expires_in: int = Field(description="seconds")


@router.post("/api/v1/realtime/tickets", response_model=RealtimeTicket, status_code=201)
async def create_ticket(principal: CurrentPrincipal, runtime: RuntimeDep, response: Response) -> RealtimeTicket:
    """A single-use ticket for clients that cannot send `Authorization` or a cookie on the socket handshake: it
    opens one socket within HELPLINE_REALTIME_TICKET_SECONDS (30) as this session, and nothing after that."""
    if principal.session_id is None:
        raise Forbidden("only a logged-in session can ask for a realtime ticket")
    try:
        ticket = await runtime.tickets.issue(principal.session_id)
    except RedisError:
        raise Unavailable("realtime tickets are unavailable; try again shortly", details={"retry_after": 5}) from None
    response.headers["Cache-Control"] = "no-store"
    return RealtimeTicket(ticket=ticket, expires_in=runtime.settings.realtime_ticket_seconds)


async def _ticket_principal(runtime: Runtime, ticket: str) -> Principal:
    try:
        session_id = await runtime.tickets.redeem(ticket)
    except RedisError:
        session_id = None
    if session_id is not None:
        async with runtime.db.reads() as session:
            principal = (await current_principals(session, {session_id})).get(session_id)
        if principal is not None:
            return principal
    raise Unauthorized("unknown, used or expired ticket")


@router.websocket("/api/v1/realtime")
async def realtime(websocket: WebSocket, last_event_id: int | None = None, ticket: str | None = None) -> None:
    """Authenticate by session cookie, `Authorization: Bearer`, or a single-use `?ticket=` from
    POST /api/v1/realtime/tickets (never a session token in the URL: it would land in access logs); pass
    `?last_event_id=` to get the frames missed since (or a `resync` frame when they are gone).
    Closes with 4401 when the session ends (logout, deactivation, expiry) or the ticket is unknown, used or
    expired, and 4403 for a foreign Origin."""
    runtime = get_runtime(websocket)
    try:
        if not origin_allowed(websocket.headers.get("origin"), runtime.settings):
            raise Forbidden("this origin may not open the realtime socket", code="bad_origin")
        principal = await (_ticket_principal(runtime, ticket) if ticket is not None else resolve_principal(websocket))
    except HelplineError as exc:
        # 4401/4403: application close codes, so the client knows not to retry blindly. Accept first: a
        # close before the handshake completes reaches the client as a bare HTTP 403, without the code.
        await websocket.accept()
        await websocket.close(code=4401 if exc.status_code == 401 else 4403, reason=exc.message[:100])
        return
    await websocket.accept()
    subscriber = runtime.hub.subscribe(principal, last_event_id)
    runtime.metrics.websocket_clients.set(runtime.hub.client_count)
    await websocket.send_json(
        {"type": "hello", "operator_id": principal.operator_id, "last_event_id": runtime.hub.last_event_id}
    )

    async def pump() -> None:
        while True:
            try:
                frame = await asyncio.wait_for(subscriber.queue.get(), timeout=PING_SECONDS)
            except TimeoutError:
                if subscriber.overflowed:
                    await websocket.send_json(dict(RESYNC))
                    return
                await websocket.send_json({"type": "ping"})
                continue
            view = subscriber.deliverable(frame)
            if view is not None:
                await websocket.send_json(view)
            if subscriber.overflowed and subscriber.queue.empty():
                await websocket.send_json(dict(RESYNC))
                return

    async def drain_client() -> None:
        # Clients only send pings; reading also notices the disconnect.
        while True:
            await websocket.receive_text()

    async def obey_revocation() -> None:
        await subscriber.revoked_event.wait()
        code, reason = subscriber.revoked or (4401, "session ended")
        await websocket.close(code=code, reason=reason)

    try:
        await run_until_first_ends(pump(), drain_client(), obey_revocation())
    finally:
        runtime.hub.unsubscribe(subscriber)
        runtime.metrics.websocket_clients.set(runtime.hub.client_count)
        with contextlib.suppress(Exception):
            await websocket.close()
