"""Route: the operators' websocket. Authenticates once, replays what a reconnecting client missed, relays."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from helpline.auth.dependencies import get_runtime, resolve_principal
from helpline.platform.errors import HelplineError
from helpline.realtime.hub import RESYNC

log = logging.getLogger(__name__)
router = APIRouter()

PING_SECONDS = 25.0


@router.websocket("/api/v1/realtime")
async def realtime(websocket: WebSocket, last_event_id: int | None = None) -> None:
    """Authenticate by session cookie, `Authorization: Bearer`, or `?token=`; pass `?last_event_id=` to
    get the frames missed since (or a `resync` frame when they are gone)."""
    runtime = get_runtime(websocket)
    try:
        principal = await resolve_principal(websocket, allow_query_token=True)
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
            await websocket.send_json(frame)
            if subscriber.overflowed and subscriber.queue.empty():
                await websocket.send_json(dict(RESYNC))
                return

    async def drain_client() -> None:
        # Clients only send pings; reading also notices the disconnect.
        while True:
            await websocket.receive_text()

    tasks = [asyncio.create_task(pump()), asyncio.create_task(drain_client())]
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
