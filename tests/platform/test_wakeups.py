"""Cross-process wake-ups on PostgreSQL: a commit in one process's Notifier reaches another's LISTEN."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import delete

from helpline.platform import outbox, wakeups
from helpline.platform.db import Database


async def test_a_committed_row_wakes_a_listening_worker(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the workers share the server's process or poll")
    api, worker = Database(db_url), Database(db_url)
    woken = asyncio.Event()
    calls = 0

    def on_notify() -> None:
        nonlocal calls
        calls += 1
        woken.set()

    notifier = wakeups.Notifier(api)
    tasks = [asyncio.create_task(notifier.run()), asyncio.create_task(wakeups.listen(worker, on_notify))]
    try:
        await asyncio.wait_for(woken.wait(), 10)  # the listener wakes once on (re)connecting
        await asyncio.sleep(0.2)
        woken.clear()
        before = calls
        async with api.transaction() as session:
            outbox.enqueue(session, "test.wake", {"n": 1})
        await asyncio.wait_for(woken.wait(), 10)
        assert calls > before
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with api.transaction() as session:
            await session.execute(delete(outbox.OutboxRow).where(outbox.OutboxRow.topic == "test.wake"))
        await api.dispose()
        await worker.dispose()
