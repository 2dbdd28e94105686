"""A real Helpline server for the browser tests: uvicorn on a loopback port, in a thread with its own event loop.

The server runs the demo (the Meta sandbox mounted in-process, the demo channels, the bot's seeds) with the
simulated customers' timers pushed out of reach, so nothing writes unless a test says so: `customer_says` drives
the sandbox on the server's loop, and everything else goes over real HTTP, as a browser's would.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

from helpline.app import create_app
from helpline.runtime import Runtime
from helpline.sandbox.meta.core import MetaSandbox
from tests.conftest import PASSWORD, make_settings
from tests.e2e.conftest import bound_socket

T = TypeVar("T")
START_TIMEOUT = 60.0
CALL_TIMEOUT = 30.0
# The simulated customers sleep ~this long before their first message: never, for a test run.
NO_TIMERS = 10.0**9


@dataclass
class Operator:
    """A person who logs in: `token` authenticates API calls made on their behalf from the test."""

    id: int
    email: str
    name: str
    role: str
    token: str
    password: str = PASSWORD

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class LiveServer:
    """Helpline under uvicorn in a background thread; `call` runs a coroutine on the server's own loop."""

    def __init__(self, data_dir: Path, database_url: str, **overrides: Any) -> None:
        self._sock = bound_socket()
        port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        values: dict[str, Any] = {
            "run_workers": True,
            "base_url": self.base_url,
            "outbox_poll_seconds": 0.05,
            "demo": True,
            "demo_interval_seconds": NO_TIMERS,
            "demo_mail": False,  # the demo's mailbox adds a channel the screens' counts do not expect
            "login_max_failures": 50,
        }
        values.update(overrides)
        self.settings = make_settings(data_dir, database_url, **values)
        self.app = create_app(self.settings, migrate=False)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self.http = httpx.Client(base_url=self.base_url, timeout=15)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def sandbox(self) -> MetaSandbox:
        sandbox: MetaSandbox = self.app.state.meta_sandbox
        return sandbox

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", ws="websockets-sansio", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            ready.set()
            try:
                assert self._server is not None
                loop.run_until_complete(self._server.serve(sockets=[self._sock]))
            except BaseException as exc:  # reported by start() or stop(), never lost in the thread
                self._failure = exc
            finally:
                loop.run_until_complete(self._leave(loop))
                loop.close()

        self._thread = threading.Thread(target=main, name=f"helpline-{self.base_url}", daemon=True)
        self._thread.start()
        ready.wait(START_TIMEOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if self._failure is not None or not self._thread.is_alive():
                raise RuntimeError(f"the server stopped during start-up: {self._failure!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start within {START_TIMEOUT} s")
            time.sleep(0.05)

    async def _leave(self, loop: asyncio.AbstractEventLoop) -> None:
        """After uvicorn's shutdown: close the sandbox (its webhook sender is not part of the app's lifespan) and
        cancel whatever else still runs, so no task or socket outlives the loop."""
        sandbox = getattr(self.app.state, "meta_sandbox", None)
        if sandbox is not None:
            await sandbox.aclose()
        pending = [task for task in asyncio.all_tasks(loop) if task is not asyncio.current_task() and not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await loop.shutdown_asyncgens()

    def stop(self) -> None:
        self.http.close()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(15)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(10)
        self._sock.close()
        if self._failure is not None and not isinstance(self._failure, (KeyboardInterrupt, SystemExit)):
            raise RuntimeError("the server failed") from self._failure

    def call(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float = CALL_TIMEOUT) -> T:
        """Run `make()` on the server's loop (where its database pool and sandbox live) and return the result."""
        assert self._loop is not None
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(make(), self._loop)
        return future.result(timeout)

    # ------------------------------------------------------------ HTTP as an operator

    def api(self, who: Operator, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"/api/v1{path}", headers=who.headers, **kwargs)

    def ok(self, who: Operator, method: str, path: str, **kwargs: Any) -> Any:
        response = self.api(who, method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def login(self, email: str, password: str = PASSWORD) -> str:
        response = self.http.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.http.cookies.clear()
        token: str = response.json()["access_token"]
        return token

    # ------------------------------------------------------------ waiting

    def until(self, check: Callable[[], T | None], *, what: str, timeout: float = 15.0, every: float = 0.1) -> T:
        """Poll `check` until it returns something truthy; fails with `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(every)


@contextlib.contextmanager
def running(data_dir: Path, database_url: str, **overrides: Any) -> Iterator[LiveServer]:
    server = LiveServer(data_dir, database_url, **overrides)
    server.start()
    try:
        yield server
    finally:
        server.stop()
