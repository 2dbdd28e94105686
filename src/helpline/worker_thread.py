"""The in-process workers on an event loop of their own, in a thread of the `serve` process.

On the server's loop the workers' batches waited behind every ready request callback, so a flood of webhooks
starved the processing of what was accepted (bench/RESULTS.md, "Why the separate-worker run was slower").
On their own loop they get their turn from the operating system instead. Database, HTTP and Redis
connections belong to the loop that opened them, so the thread has its own (`Runtime.for_worker_thread`);
commits on the server's loop wake the thread at once through the worker's thread-safe `wake`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading

from helpline.bot.interface import FrontLine
from helpline.jobs import run_workers_until
from helpline.platform.worker import OutboxWorker
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

SWITCH_INTERVAL_SECONDS = 0.001


class WorkerThread:
    """`start` on the server's loop; `stop` lets the batch in progress finish (up to `stop_timeout` seconds),
    then cancels the rest; rows not settled by then are leased and taken again later, never lost."""

    def __init__(self, runtime: Runtime, front_line: FrontLine | None = None, *, stop_timeout: float = 30.0) -> None:
        self._parent = runtime
        self._front_line = front_line
        self._stop_timeout = stop_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.worker: OutboxWorker | None = None

    async def start(self) -> None:
        """Start the thread and wait until its workers run. Raises what made the thread fail to start."""
        # Each database round trip of the workers releases the GIL; getting it back waits for the request
        # thread to give it up, at most the switch interval (5 ms by default). A batch makes hundreds of
        # round trips, so under a flood of requests that wait dominated it (bench/RESULTS.md, "Processing
        # off the request loop"); 1 ms costs the CPU-bound side little.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))
        main_loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._main, args=(main_loop,), name="helpline-workers", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._ready.wait)
        if self._failure is not None:
            raise RuntimeError("the worker thread did not start") from self._failure

    async def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, self._stop_timeout + 10)
            if self._thread.is_alive():
                log.warning("the worker thread did not stop in time; its leased rows will be taken again")

    def _main(self, main_loop: asyncio.AbstractEventLoop) -> None:
        try:
            asyncio.run(self._serve(main_loop))
        except BaseException as exc:  # reported to `start`, or logged once running
            if not self._ready.is_set():
                self._failure = exc
            else:
                log.exception("the worker thread ended with an error")
        finally:
            self._ready.set()

    async def _serve(self, main_loop: asyncio.AbstractEventLoop) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runtime = await self._parent.for_worker_thread(main_loop)

        def ready(worker: OutboxWorker) -> None:
            self.worker = worker
            self._ready.set()

        await run_workers_until(runtime, self._stop, self._front_line, stop_timeout=self._stop_timeout, ready=ready)
