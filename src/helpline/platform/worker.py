"""The outbox worker loop: claim due rows, run their topic's handler, settle them; many may run at once."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.platform import outbox
from helpline.platform.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """What a handler gets: the row's payload and whether this is its last try (so it can fail visibly)."""

    id: int
    payload: dict[str, Any]
    attempt: int
    last_attempt: bool
    # Which part of a bundled row (`outbox.flush_bundles`) this is; None for a row of its own.
    part: int | None = None

    @property
    def event_key(self) -> str:
        """A name for this side effect that is the same on every repeat and unique across rows and parts."""
        return f"outbox-{self.id}" if self.part is None else f"outbox-{self.id}.{self.part}"

    @property
    def source_id(self) -> int:
        """The same as an integer (for unique keys): the row id, or for a part of a bundle a negative number,
        -(row id * 10000 + part), which no row id equals (a bundle holds far fewer than 10000 parts)."""
        return self.id if self.part is None else -(self.id * 10_000 + self.part)


Handler = Callable[[Job], Awaitable[None]]
# Gets every claimed row of its topic at once; returns, per row id, None (done) or the error (retry).
BatchHandler = Callable[[list[Job]], Awaitable[dict[int, str | None]]]
# Gets all parts of one bundled row at once (e.g. one Redis round trip for a batch's frames); raising
# retries the whole row, so it must be idempotent per part like a Handler.
BundleHandler = Callable[[list[Job]], Awaitable[None]]


class RetryLater(Exception):
    """A handler's way to say: the side effect did not happen, try again with backoff."""


class OutboxWorker:
    """Runs handlers for committed outbox rows.

    Rows of a topic marked `ordered` run one after another in id order within a batch (realtime frames);
    the others run concurrently. A handler that raises is retried with exponential backoff and lands in the
    dead state after the configured number of attempts; handlers are idempotent, because a crash after the
    side effect but before the row is settled runs them again.
    """

    def __init__(
        self,
        db: Database,
        handlers: dict[str, Handler],
        *,
        batch_handlers: dict[str, BatchHandler] | None = None,
        bundle_handlers: dict[str, BundleHandler] | None = None,
        ordered_topics: frozenset[str] = frozenset(),
        concurrency: int = 16,
        batch_size: int = 100,
        poll_seconds: float = 0.5,
        lease_seconds: float = 60.0,
        max_run_seconds: float | None = None,
        max_attempts: int = 12,
        backoff_base: float = 2.0,
        backoff_max: float = 3600.0,
        busy_poll_seconds: float = 0.02,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        self.bundle_handlers = bundle_handlers or {}
        self.ordered_topics = ordered_topics
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        # A handler is never allowed to work for ever: by default ten leases.
        self.max_run_seconds = max_run_seconds if max_run_seconds is not None else lease_seconds * 10
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # After a claim that found work, look again this soon: rows committed by other processes wake
        # nobody here, and waiting the idle poll interval between batches is what made a separate worker
        # process slower than the in-process one (bench/RESULTS.md).
        self.busy_poll_seconds = min(busy_poll_seconds, poll_seconds)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def sibling(self) -> OutboxWorker:
        """Another worker with the same handlers and settings, to have several batches in flight in one
        process: while one batch waits on a database round trip, the other's statements go out."""
        twin = copy.copy(self)
        twin.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        twin._semaphore = asyncio.Semaphore(self._concurrency)
        twin._wake = asyncio.Event()
        twin._wake_pending = False
        twin._stopping = False
        twin._loop = None
        return twin

    def wake(self) -> None:
        """Thread-safe nudge: a row was committed, look now instead of at the next poll.

        Cheap under a flood: one signal per claim at most (`_wake_pending`), not one per committed request."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._wake_pending:
            return
        self._wake_pending = True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Claim and run batches until `stop`; a batch in progress when `stop` is called is finished."""
        self._loop = asyncio.get_running_loop()
        outbox.on_enqueue(self.wake)
        log.info("outbox worker %s started", self.worker_id)
        try:
            while not self._stopping:
                # Reset before the claim reads, so a commit that lands during the claim still wakes us.
                self._wake_pending = False
                self._wake.clear()
                try:
                    handled = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # A database hiccup must not kill the loop; back off and try again.
                    log.exception("outbox worker iteration failed")
                    await asyncio.sleep(self.poll_seconds)
                    continue
                if handled < self.batch_size and not self._stopping:
                    wait = self.busy_poll_seconds if handled else self.poll_seconds
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=wait)
        finally:
            outbox.remove_listener(self.wake)

    def stop(self) -> None:
        """Finish the batch in progress, then return from `run` (thread-safe)."""
        self._stopping = True
        self._wake_pending = False
        self.wake()

    async def run_once(self, *, only_ids: list[int] | None = None) -> int:
        """Claim one batch (of `only_ids`, when given), run it, settle it. Returns how many rows were claimed.

        While the handlers work, their leases are renewed every third of the lease, so a slow handler is never
        taken over by a second worker; a handler whose lease could not be renewed in time (the database was
        unreachable, or another worker took the row) is cancelled, and so is one that runs past
        `max_run_seconds` — either way it is retried later, never run twice at once."""
        async with self.db.transaction() as session:
            await self._relax_durability(session)
            rows = await outbox.claim(
                session,
                worker_id=self.worker_id,
                limit=self.batch_size,
                lease_seconds=self.lease_seconds,
                only_ids=only_ids,
            )
        if not rows:
            return 0
        batched: dict[str, list[outbox.ClaimedRow]] = {}
        for r in rows:
            if r.topic in self.batch_handlers:
                batched.setdefault(r.topic, []).append(r)
        ordered = [r for r in rows if r.topic in self.ordered_topics]
        parallel = [r for r in rows if r.topic not in self.ordered_topics and r.topic not in batched]
        results: dict[int, str | None] = {}
        running: dict[int, asyncio.Task[Any]] = {}

        async def run_tracked(row: outbox.ClaimedRow) -> None:
            task = asyncio.create_task(self._run_handler(row))
            running[row.id] = task
            try:
                results[row.id] = await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # the worker itself is stopping
                results[row.id] = "stopped: its lease ran out before it finished"
            finally:
                running.pop(row.id, None)

        async def run_ordered() -> None:
            for row in ordered:
                await run_tracked(row)

        async def run_one(row: outbox.ClaimedRow) -> None:
            async with self._semaphore:
                await run_tracked(row)

        async def run_batch(topic: str, group: list[outbox.ClaimedRow]) -> None:
            task = asyncio.create_task(self._run_batch(topic, group))
            for row in group:
                running[row.id] = task
            try:
                results.update(await task)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
                results.update({r.id: "stopped: its lease ran out before it finished" for r in group})
            finally:
                for row in group:
                    running.pop(row.id, None)

        keeper = asyncio.create_task(self._keep_leases(rows, results, running), name="outbox-lease-keeper")
        try:
            await asyncio.gather(
                run_ordered(), *(run_batch(t, g) for t, g in batched.items()), *(run_one(r) for r in parallel)
            )
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        await self._settle(rows, results)
        return len(rows)

    async def _keep_leases(
        self,
        rows: list[outbox.ClaimedRow],
        results: dict[int, str | None],
        running: dict[int, asyncio.Task[Any]],
    ) -> None:
        """Renew the leases of the rows still working; stop the handlers whose lease is lost."""
        loop_time = asyncio.get_running_loop().time
        began = loop_time()
        lease_until = began + self.lease_seconds
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            now = loop_time()
            pending = [r.id for r in rows if r.id not in results]
            if not pending:
                return
            if now - began > self.max_run_seconds:
                for overdue in list(running.values()):
                    overdue.cancel()
                continue
            try:
                async with self.db.transaction() as session:
                    kept = await outbox.extend_leases(
                        session, pending, worker_id=self.worker_id, lease_seconds=self.lease_seconds
                    )
                lease_until = now + self.lease_seconds
            except Exception:
                log.exception("could not renew outbox leases")
                kept = set(pending) if now < lease_until - self.lease_seconds / 3 else set()
            for row_id in set(pending) - kept:
                task = running.get(row_id)
                if task is not None:
                    log.warning("outbox row %s lost its lease; stopping its handler", row_id)
                    task.cancel()

    async def _run_batch(self, topic: str, group: list[outbox.ClaimedRow]) -> dict[int, str | None]:
        jobs = [
            Job(id=r.id, payload=r.payload, attempt=r.attempts, last_attempt=r.attempts >= self.max_attempts)
            for r in group
        ]
        try:
            answers = await self.batch_handlers[topic](jobs)
        except Exception as exc:
            log.exception("outbox batch handler %s failed for %d rows", topic, len(group))
            error = f"{type(exc).__name__}: {exc}"
            return {r.id: error for r in group}
        # A row the handler did not answer for is retried, never silently dropped.
        return {r.id: answers.get(r.id, "no answer from the batch handler") for r in group}

    async def _run_handler(self, row: outbox.ClaimedRow) -> str | None:
        handler = self.handlers.get(row.topic)
        if handler is None:
            return f"no handler for topic {row.topic!r}"
        last = row.attempts >= self.max_attempts
        parts = row.payload.get("bundle")
        if not isinstance(parts, list):
            return await self._call(
                handler, row, Job(id=row.id, payload=row.payload, attempt=row.attempts, last_attempt=last)
            )
        jobs = [
            Job(id=row.id, payload=part, attempt=row.attempts, last_attempt=last, part=index)
            for index, part in enumerate(parts)
        ]
        whole = self.bundle_handlers.get(row.topic)
        if whole is not None:
            return await self._call_bundle(whole, row, jobs)
        # A bundle runs its parts in order; every part runs even when one fails, and the row is retried as a
        # whole (handlers are idempotent, and each part keeps its event key on the repeat).
        errors = []
        for job in jobs:
            error = await self._call(handler, row, job)
            if error is not None:
                errors.append(f"part {job.part}: {error}")
        return "; ".join(errors)[:2000] if errors else None

    async def _call_bundle(self, handler: BundleHandler, row: outbox.ClaimedRow, jobs: list[Job]) -> str | None:
        return await _outcome(handler(jobs), "outbox bundle handler", row)

    async def _call(self, handler: Handler, row: outbox.ClaimedRow, job: Job) -> str | None:
        return await _outcome(handler(job), "outbox handler", row)

    async def _relax_durability(self, session: AsyncSession) -> None:
        """Claims and settlements may skip waiting for the disk flush (PostgreSQL `synchronous_commit`).

        Losing one after a crash only means a lease is taken again or a handler runs again, and handlers are
        idempotent; the changes that matter (messages, outbox rows themselves) commit durably elsewhere.
        """
        if self.db.is_postgres:
            await session.execute(text("SET LOCAL synchronous_commit = off"))

    async def _settle(self, rows: list[outbox.ClaimedRow], results: dict[int, str | None]) -> None:
        async with self.db.transaction() as session:
            await self._relax_durability(session)
            await outbox.complete(session, [r.id for r in rows if results.get(r.id) is None], worker_id=self.worker_id)
            for row in rows:
                error = results.get(row.id)
                if error is None:
                    continue
                died = await outbox.fail(
                    session,
                    row,
                    error,
                    worker_id=self.worker_id,
                    max_attempts=self.max_attempts,
                    base=self.backoff_base,
                    maximum=self.backoff_max,
                )
                if died:
                    log.error(
                        "outbox row %s (%s) is dead after %s attempts: %s",
                        row.id,
                        row.topic,
                        row.attempts,
                        error,
                    )


async def _outcome(work: Awaitable[None], what: str, row: outbox.ClaimedRow) -> str | None:
    """Runs a handler's work: None when it succeeded, else the error kept on the row (RetryLater's reason, or
    the exception, which is logged)."""
    try:
        await work
    except RetryLater as exc:
        return str(exc) or "retry requested"
    except Exception as exc:
        log.exception("%s %s failed for row %s", what, row.topic, row.id)
        return f"{type(exc).__name__}: {exc}"
    return None
