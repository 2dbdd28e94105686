"""Running a websocket's concurrent loops (sending frames, reading the client, watching revocation) together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocketDisconnect


async def run_until_first_ends(*loops: Coroutine[Any, Any, None]) -> None:
    """Run `loops` until one returns or raises (the client left, the socket was revoked…), then cancel the
    others and wait for them, so no task outlives the socket. A disconnect is the normal end, never raised."""
    tasks = [asyncio.create_task(loop) for loop in loops]
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
