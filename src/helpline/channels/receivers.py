"""Channels that are read rather than pushed to (a mailbox): the workers keep one reader task per active one.

An adapter class offers `receiver()` → `async (runtime, channel_id) -> None`; this supervisor starts it for
each active channel of that kind, restarts it when it ends while the channel is still active, and cancels it
when the channel is disabled or deleted. Running in every worker process is safe: readers take a lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy import select

from helpline.channels.models import Channel
from helpline.channels.registry import ADAPTERS
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

Receiver = Callable[[Any, int], Coroutine[Any, Any, None]]


def receiver_for(kind: str) -> Receiver | None:
    adapter = ADAPTERS.get(kind)
    factory = getattr(adapter, "receiver", None)
    return factory() if callable(factory) else None


async def supervise_receivers(runtime: Runtime, interval: float = 15.0) -> None:
    """Forever: match the running reader tasks to the active channels that need one."""
    kinds = [kind for kind in ADAPTERS if receiver_for(kind) is not None]
    tasks: dict[int, asyncio.Task[None]] = {}
    try:
        while True:
            try:
                async with runtime.db.reads() as session:
                    rows = (
                        await session.execute(
                            select(Channel.id, Channel.kind).where(Channel.kind.in_(kinds), Channel.status == "active")
                        )
                    ).all()
                wanted = {int(channel_id): str(kind) for channel_id, kind in rows}
                for channel_id in [c for c in tasks if c not in wanted]:
                    tasks.pop(channel_id).cancel()
                for channel_id, kind in wanted.items():
                    task = tasks.get(channel_id)
                    receiver = receiver_for(kind)
                    if receiver is not None and (task is None or task.done()):
                        tasks[channel_id] = asyncio.create_task(
                            receiver(runtime, channel_id), name=f"channel-receiver-{channel_id}"
                        )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("channel receivers: supervision round failed")
            await asyncio.sleep(interval)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
