"""Route: the operators' websocket. Authenticates once, replays what a reconnecting client missed, relays."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from helpline.auth.dependencies import get_runtime, resolve_principal
from helpline.platform.errors import Forbidden, HelplineError
from helpline.realtime.hub import RESYNC
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


@router.websocket("/api/v1/realtime")
async def realtime(websocket: WebSocket, last_event_id: int | None = None) -> None:
    """Authenticate by session cookie or `Authorization: Bearer` (never a token in the URL: it would land in
    access logs); pass `?last_event_id=` to get the frames missed since (or a `resync` frame when they are gone).
    Closes with 4401 when the session ends (logout, deactivation, expiry) and 4403 for a foreign Origin."""
    runtime = get_runtime(websocket)
    try:
        if not origin_allowed(websocket.headers.get("origin"), runtime.settings):
            raise Forbidden("this origin may not open the realtime socket", code="bad_origin")
        principal = await resolve_principal(websocket)
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

    tasks = [asyncio.create_task(pump()), asyncio.create_task(drain_client()), asyncio.create_task(obey_revocation())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task
        runtime.hub.unsubscribe(subscriber)
        runtime.metrics.websocket_clients.set(runtime.hub.client_count)
        with contextlib.suppress(Exception):
            await websocket.close()
