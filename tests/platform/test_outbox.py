"""The outbox on both databases: visibility after commit, disjoint claims, leases, backoff, dead rows, the worker."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from helpline.platform import outbox
from helpline.platform.clock import utcnow
from helpline.platform.outbox import OutboxRow
from helpline.platform.worker import Job, OutboxWorker, RetryLater
from helpline.runtime import Runtime
from tests.conftest import World


async def add_rows(runtime: Runtime, n: int, topic: str = "test.topic") -> list[int]:
    async with runtime.db.transaction() as session:
        for i in range(n):
            outbox.enqueue(session, topic, {"n": i})
        await session.flush()
        return list((await session.execute(select(OutboxRow.id).order_by(OutboxRow.id))).scalars())[-n:]


async def claim(runtime: Runtime, worker_id: str, limit: int = 100, lease: float = 60.0) -> list[outbox.ClaimedRow]:
    async with runtime.db.transaction() as session:
        return await outbox.claim(session, worker_id=worker_id, limit=limit, lease_seconds=lease)


async def row(runtime: Runtime, row_id: int) -> OutboxRow | None:
    async with runtime.db.sessions() as session:
        return await session.get(OutboxRow, row_id)


async def make_due(runtime: Runtime, row_id: int) -> None:
    """Skip the backoff wait: the row becomes due now."""
    async with runtime.db.transaction() as session:
        await session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(available_at=utcnow()))


# ---------------------------------------------------------------- visibility


async def test_rows_are_claimable_only_after_commit(runtime: Runtime) -> None:
    committed = asyncio.Event()
    async with runtime.db.sessions() as writer:
        await writer.begin()
        outbox.enqueue(writer, "test.topic", {"n": 1})
        await writer.flush()
        # On PostgreSQL the claim runs now and cannot see the row; SQLite makes it wait for the writer.
        early = asyncio.create_task(claim(runtime, "early"))
        await asyncio.sleep(0.3)
        if runtime.db.is_postgres:
            assert early.done()
        committed.set()
        await writer.commit()
    rows = await early
    if runtime.db.is_postgres:
        assert rows == []
        rows = await claim(runtime, "late")
    assert committed.is_set()
    assert [(r.topic, r.payload) for r in rows] == [("test.topic", {"n": 1})]


async def test_rolled_back_rows_never_appear(runtime: Runtime) -> None:
    async with runtime.db.sessions() as session:
        await session.begin()
        outbox.enqueue(session, "test.topic", {"n": 1})
        await session.flush()
        await session.rollback()
    assert await claim(runtime, "w") == []


async def test_delayed_rows_wait_until_due(runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        outbox.enqueue(session, "test.later", {}, delay_seconds=3600)
        outbox.enqueue(session, "test.now", {})
    assert [r.topic for r in await claim(runtime, "w")] == ["test.now"]


# ---------------------------------------------------------------- concurrent claims and leases


async def test_concurrent_claims_never_return_the_same_row(runtime: Runtime) -> None:
    ids = await add_rows(runtime, 60)
    claimed: dict[str, list[int]] = {}

    async def worker(name: str) -> None:
        while rows := await claim(runtime, name, limit=7):
            claimed.setdefault(name, []).extend(r.id for r in rows)
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
    everything = [row_id for rows in claimed.values() for row_id in rows]
    assert sorted(everything) == ids  # each row exactly once


async def test_a_claim_skips_rows_locked_by_an_open_claim(runtime: Runtime) -> None:
    """Two claims in separate sessions, the first still open: on PostgreSQL this is SKIP LOCKED at work."""
    ids = await add_rows(runtime, 10)
    async with runtime.db.sessions() as first:
        await first.begin()
        mine = await outbox.claim(first, worker_id="a", limit=4, lease_seconds=60)
        second = asyncio.create_task(claim(runtime, "b", limit=100))
        await asyncio.sleep(0.3)
        if runtime.db.is_postgres:
            # Not blocked by the first transaction's row locks, and none of its rows.
            assert second.done()
        await first.commit()
    theirs = await second
    assert [r.id for r in mine] == ids[:4]
    assert [r.id for r in theirs] == ids[4:]


async def test_an_expired_lease_is_claimed_again(runtime: Runtime) -> None:
    [row_id] = await add_rows(runtime, 1)
    [first] = await claim(runtime, "dead-worker", lease=60)
    assert await claim(runtime, "other") == []  # a live lease is respected

    async with runtime.db.transaction() as session:
        await session.execute(
            update(OutboxRow).where(OutboxRow.id == row_id).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    [again] = await claim(runtime, "other")
    assert (again.id, first.attempts, again.attempts) == (row_id, 1, 2)

    # The first worker wakes up late: its settlement must not touch a row it no longer holds.
    async with runtime.db.transaction() as session:
        await outbox.complete(session, [row_id], worker_id="dead-worker")
    assert await row(runtime, row_id) is not None
    async with runtime.db.transaction() as session:
        await outbox.complete(session, [row_id], worker_id="other")
    assert await row(runtime, row_id) is None


# ---------------------------------------------------------------- failures


async def test_fail_backs_off_then_marks_the_row_dead(runtime: Runtime) -> None:
    [row_id] = await add_rows(runtime, 1)
    settings = {"max_attempts": 3, "base": 10.0, "maximum": 100.0}
    for attempt in (1, 2):
        [claimed] = await claim(runtime, "w")
        assert claimed.attempts == attempt
        before = utcnow()
        async with runtime.db.transaction() as session:
            died = await outbox.fail(session, claimed, f"boom {attempt}", worker_id="w", **settings)
        assert not died
        stored = await row(runtime, row_id)
        assert stored is not None
        assert (stored.status, stored.last_error, stored.locked_by) == ("pending", f"boom {attempt}", None)
        ceiling = 10.0 * 2 ** (attempt - 1)
        wait = (stored.available_at - before).total_seconds()
        assert ceiling / 2 - 0.5 <= wait <= ceiling + 0.5
        assert await claim(runtime, "w") == []  # backing off
        await make_due(runtime, row_id)

    [last] = await claim(runtime, "w")
    async with runtime.db.transaction() as session:
        assert await outbox.fail(session, last, "boom 3", worker_id="w", **settings)
    stored = await row(runtime, row_id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.last_error) == ("dead", 3, "boom 3")
    await make_due(runtime, row_id)
    assert await claim(runtime, "w") == []
    async with runtime.db.sessions() as session:
        stats = await outbox.stats(session)
    assert (stats.pending, stats.dead) == (0, 1)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    for attempts, ceiling in ((1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)):
        for _ in range(50):
            wait = outbox.backoff_seconds(attempts, base=2.0, maximum=60.0)
            assert ceiling / 2 <= wait <= ceiling


async def test_a_failing_handler_is_retried_then_dead_and_an_admin_revives_it(
    runtime: Runtime, client: httpx.AsyncClient, world: World
) -> None:
    calls: list[Job] = []
    broken = True

    async def handler(job: Job) -> None:
        calls.append(job)
        if broken:
            raise RuntimeError("provider exploded")

    worker = OutboxWorker(runtime.db, {"test.flaky": handler}, max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    [row_id] = await add_rows(runtime, 1, "test.flaky")
    assert await worker.run_once() == 1
    await asyncio.sleep(0.05)
    assert await worker.run_once() == 1
    assert [(j.attempt, j.last_attempt) for j in calls] == [(1, False), (2, True)]
    await asyncio.sleep(0.05)
    assert await worker.run_once() == 0

    assert (await client.get("/api/v1/outbox", headers=world.agent.headers)).status_code == 403
    overview = await client.get("/api/v1/outbox", headers=world.admin.headers)
    assert overview.status_code == 200, overview.text
    data = overview.json()
    assert data["dead"] == 1
    [dead] = data["dead_rows"]
    assert (dead["id"], dead["topic"], dead["status"], dead["attempts"]) == (row_id, "test.flaky", "dead", 2)
    assert "RuntimeError: provider exploded" in dead["last_error"]

    assert (await client.post(f"/api/v1/outbox/{row_id}/retry", headers=world.agent.headers)).status_code == 403
    revived = await client.post(f"/api/v1/outbox/{row_id}/retry", headers=world.admin.headers)
    assert revived.status_code == 202
    stored = await row(runtime, row_id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.last_error) == ("pending", 0, None)
    # Retrying a row that is not dead is a 404, not a silent reset.
    assert (await client.post(f"/api/v1/outbox/{row_id}/retry", headers=world.admin.headers)).status_code == 404

    broken = False
    assert await worker.run_once() == 1
    assert calls[-1].attempt == 1
    assert await row(runtime, row_id) is None
    assert (await client.get("/api/v1/outbox", headers=world.admin.headers)).json()["dead"] == 0


async def test_retry_later_and_unknown_topics_are_retried(runtime: Runtime) -> None:
    async def later(job: Job) -> None:
        raise RetryLater("not yet")

    worker = OutboxWorker(runtime.db, {"test.later": later}, max_attempts=1, backoff_base=0.01, backoff_max=0.01)
    [later_id] = await add_rows(runtime, 1, "test.later")
    [orphan_id] = await add_rows(runtime, 1, "test.nobody")
    assert await worker.run_once() == 2
    later_row, orphan_row = await row(runtime, later_id), await row(runtime, orphan_id)
    assert later_row is not None and orphan_row is not None
    assert (later_row.status, later_row.last_error) == ("dead", "not yet")
    assert (orphan_row.status, orphan_row.last_error) == ("dead", "no handler for topic 'test.nobody'")


# ---------------------------------------------------------------- the worker


async def test_the_worker_settles_a_batch(runtime: Runtime) -> None:
    seen: list[tuple[str, int]] = []

    def recorder(topic: str) -> Any:
        async def handle(job: Job) -> None:
            await asyncio.sleep(0.001 * (5 - job.payload["n"] % 5))  # finish out of order
            seen.append((topic, job.payload["n"]))

        return handle

    async def failing(job: Job) -> None:
        raise ValueError("bad payload")

    worker = OutboxWorker(
        runtime.db,
        {"test.ordered": recorder("test.ordered"), "test.parallel": recorder("test.parallel"), "test.bad": failing},
        ordered_topics=frozenset({"test.ordered"}),
        batch_size=50,
        max_attempts=5,
    )
    await add_rows(runtime, 6, "test.ordered")
    await add_rows(runtime, 6, "test.parallel")
    [bad_id] = await add_rows(runtime, 1, "test.bad")

    assert await worker.run_once() == 13
    assert [n for topic, n in seen if topic == "test.ordered"] == list(range(6))
    assert sorted(n for topic, n in seen if topic == "test.parallel") == list(range(6))
    async with runtime.db.sessions() as session:
        left = list((await session.execute(select(OutboxRow))).scalars())
    # Successes are deleted; the failure stays pending with its error, its lease released.
    assert [(r.id, r.status, r.locked_by, r.last_error) for r in left] == [
        (bad_id, "pending", None, "ValueError: bad payload")
    ]
    assert await worker.run_once() == 0  # backing off


async def test_the_worker_stops_at_the_batch_size(runtime: Runtime) -> None:
    handled: list[int] = []

    async def handle(job: Job) -> None:
        handled.append(job.id)

    ids = await add_rows(runtime, 5)
    worker = OutboxWorker(runtime.db, {"test.topic": handle}, batch_size=2)
    assert [await worker.run_once() for _ in range(4)] == [2, 2, 1, 0]
    assert sorted(handled) == ids
