"""Bounded handlers: a slow handler keeps its lease while it works, loses it only by being stopped, and never
runs beside a second worker on the same row; realtime frames keep one event key however often they go out."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import update

from helpline.platform import outbox
from helpline.platform.outbox import OutboxRow
from helpline.platform.worker import Job, OutboxWorker
from helpline.realtime.handlers import make_publish_handler
from helpline.runtime import Runtime
from tests.platform.test_outbox import add_rows, claim, row

LEASE = 0.6


async def test_a_handler_slower_than_its_lease_keeps_it_and_runs_once(runtime: Runtime) -> None:
    runs: list[int] = []
    release = asyncio.Event()

    async def slow(job: Job) -> None:
        runs.append(job.id)
        await release.wait()

    [row_id] = await add_rows(runtime, 1)
    worker = OutboxWorker(runtime.db, {"test.topic": slow}, lease_seconds=LEASE, poll_seconds=0.05)
    busy = asyncio.create_task(worker.run_once())
    await asyncio.sleep(LEASE * 3)  # three leases later, the row is still ours
    assert await claim(runtime, "second-worker", lease=LEASE) == []
    release.set()
    assert await busy == 1
    assert runs == [row_id] and await row(runtime, row_id) is None


async def test_a_handler_whose_row_was_taken_over_is_stopped(runtime: Runtime) -> None:
    started, stopped = asyncio.Event(), asyncio.Event()

    async def stuck(job: Job) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.set()
            raise

    [row_id] = await add_rows(runtime, 1)
    worker = OutboxWorker(runtime.db, {"test.topic": stuck}, lease_seconds=LEASE)
    busy = asyncio.create_task(worker.run_once())
    await started.wait()
    async with runtime.db.transaction() as session:  # as if our lease had lapsed and another worker claimed it
        await session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(locked_by="other-worker"))
    await asyncio.wait_for(stopped.wait(), LEASE * 3)
    await busy
    kept = await row(runtime, row_id)
    assert kept is not None and kept.locked_by == "other-worker"  # ours never settled the other's row


async def test_a_handler_running_past_its_maximum_is_stopped_and_retried(runtime: Runtime) -> None:
    async def forever(job: Job) -> None:
        await asyncio.sleep(60)

    [row_id] = await add_rows(runtime, 1)
    worker = OutboxWorker(runtime.db, {"test.topic": forever}, lease_seconds=LEASE / 2, max_run_seconds=LEASE)
    await asyncio.wait_for(worker.run_once(), LEASE * 5)
    kept = await row(runtime, row_id)
    assert kept is not None and kept.status == outbox.PENDING and kept.locked_by is None
    assert kept.last_error is not None and "stopped" in kept.last_error


async def test_a_repeated_realtime_frame_keeps_its_event_key(runtime: Runtime) -> None:
    seen: list[dict[str, Any]] = []
    await runtime.broker.start(seen.append)
    publish = make_publish_handler(runtime)
    job = Job(
        id=41,
        payload={"type": "message.created", "audience": {"channel_id": 1}, "data": {}},
        attempt=1,
        last_attempt=False,
    )
    await publish(job)
    await publish(Job(id=41, payload=job.payload, attempt=2, last_attempt=False))  # a worker crashed in between
    assert [f["event_key"] for f in seen] == ["outbox-41", "outbox-41"]
    assert seen[0]["id"] != seen[1]["id"]  # the replay sequence still moves on


async def test_outbox_ids_are_never_reused_after_rows_are_settled(runtime: Runtime) -> None:
    """The id names the event (webhook delivery dedupe, realtime event_key): SQLite must not hand it out twice."""
    [first] = await add_rows(runtime, 1)
    worker = OutboxWorker(runtime.db, {"test.topic": _done})
    assert await worker.run_once() == 1 and await row(runtime, first) is None
    [second] = await add_rows(runtime, 1)
    assert second > first


async def _done(job: Job) -> None:
    return None
