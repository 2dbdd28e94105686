"""Wake-ups across processes: an API process's commits wake the separate `helpline worker` processes at once.

In one process a commit wakes the worker through `outbox.on_enqueue`; another process hears nothing and
used to wait the idle poll interval before seeing the first row after a quiet spell. On PostgreSQL the
process that commits sends `NOTIFY helpline_outbox` and every worker LISTENs. The NOTIFY is sent from its
own connection, outside the committing transactions, and at most once per `Notifier.min_interval` however
many rows are committed: a NOTIFY inside each accepting transaction would serialise all their commits on
PostgreSQL's notification-queue lock. A missed notification costs at most one poll interval, never a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from helpline.platform import outbox
from helpline.platform.db import Database

log = logging.getLogger(__name__)

CHANNEL = "helpline_outbox"


def _dsn(db: Database) -> str:
    # asyncpg's own URL form: the wake-up connection is a plain one beside the pool, never a pooled one
    # (a LISTENing connection must not be handed to a request; a NOTIFY needs no transaction).
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class Notifier:
    """Runs on one loop (`run`); `signal` may be called from any thread (it is an outbox commit listener)."""

    def __init__(self, db: Database, *, min_interval: float = 0.02, retry_seconds: float = 1.0) -> None:
        """`min_interval`: the quiet time after each NOTIFY. The first commit after a quiet spell is notified
        at once; later ones only matter to a worker already busy, which looks again within 20 ms by itself
        (`OutboxWorker.busy_poll_seconds`). At 5 ms the NOTIFYs were 6.6 % of an API process's samples under
        a flood (bench/RESULTS.md, accept path)."""
        self._dsn = _dsn(db)
        self._min_interval = min_interval
        self._retry_seconds = retry_seconds
        self._event = asyncio.Event()
        self._pending = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def signal(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or self._pending:
            return
        self._pending = True
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._event.set()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._event.set)

    async def run(self) -> None:
        """Send one NOTIFY per burst of commits until cancelled."""
        self._loop = asyncio.get_running_loop()
        outbox.on_enqueue(self.signal)
        conn: asyncpg.Connection | None = None
        try:
            while True:
                await self._event.wait()
                self._event.clear()
                self._pending = False
                try:
                    if conn is None or conn.is_closed():
                        conn = await asyncpg.connect(self._dsn)
                    await conn.execute(f"NOTIFY {CHANNEL}")
                except Exception as exc:  # the workers still poll; try again later
                    log.warning("could not notify the workers: %s", exc)
                    await asyncio.sleep(self._retry_seconds)
                await asyncio.sleep(self._min_interval)
        finally:
            outbox.remove_listener(self.signal)
            if conn is not None:
                await conn.close(timeout=2)


async def listen(db: Database, on_notify: Callable[[], None], *, retry_seconds: float = 1.0) -> None:
    """Call `on_notify` for every NOTIFY on the outbox channel until cancelled; reconnects when the connection
    drops (and wakes once then, since notifications sent meanwhile are lost)."""
    dsn = _dsn(db)
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(dsn)
            lost = asyncio.Event()
            await conn.add_listener(CHANNEL, lambda *_: on_notify())
            conn.add_termination_listener(lambda *_, lost=lost: lost.set())
            on_notify()
            while not conn.is_closed():
                # Termination listeners see a closed connection; the check covers one that died unnoticed.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), 30)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("outbox LISTEN connection failed; reconnecting: %s", exc)
        finally:
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))
        await asyncio.sleep(retry_seconds)
