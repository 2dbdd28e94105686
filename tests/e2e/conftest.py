"""Real servers on loopback sockets: the app under uvicorn, `helpline` subprocesses, and a callback receiver.

Everything here talks over real TCP; waits are bounded so a hang fails the test instead of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection

from helpline.app import create_app
from helpline.runtime import Runtime
from tests.conftest import SECRET, make_settings

HELPLINE = Path(sys.executable).parent / "helpline"
PR_SET_PDEATHSIG = 1
# Generous enough for a loaded CI machine; a healthy run takes a fraction of these.
START_TIMEOUT = 60.0
FRAME_TIMEOUT = 10.0


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (bound now, so nobody else can take the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    """A port that was free a moment ago (for subprocesses, which must bind it themselves)."""
    with bound_socket() as sock:
        port: int = sock.getsockname()[1]
        return port


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 10.0, every: float = 0.05) -> None:
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(every)

    await asyncio.wait_for(poll(), timeout)


# ---------------------------------------------------------------- the callback receiver


@dataclass
class Received:
    idempotency_key: str | None
    signature_ok: bool
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class CallbackServer:
    """A minimal HTTP/1.1 receiver of the API channel's signed callbacks.

    It checks X-Helpline-Signature itself (HMAC-SHA256 of the raw body, `sha256=<hex>`), records every
    request, and processes each Idempotency-Key once, as a real receiver would. With `hold_first`, the first
    request is read and then never answered (the sender looks hung or dies mid-request).
    """

    secret: str = ""
    hold_first: bool = False
    requests: list[Received] = field(default_factory=list)
    processed: dict[str, str] = field(default_factory=dict)
    port: int = 0
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/helpline"

    async def start(self) -> None:
        sock = bound_socket()
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._handle, sock=sock)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def wait_for_requests(self, count: int, timeout: float = 20.0) -> list[Received]:
        async def enough() -> None:
            while len(self.requests) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.requests

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the sender went away (e.g. a killed worker)
        except asyncio.CancelledError:
            # stop() ends a held request; finishing normally keeps asyncio's stream callback from logging it.
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request_line = await reader.readline()
            if not request_line:
                return
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            signature_ok = hmac.compare_digest(expected, headers.get("x-helpline-signature", ""))
            key = headers.get("idempotency-key")
            received = Received(key, signature_ok, json.loads(body) if body else {})
            self.requests.append(received)
            self._changed.set()
            if self.hold_first and len(self.requests) == 1:
                await asyncio.Event().wait()  # never answers; cancelled when the server stops
            if not signature_ok:
                status, answer = "401 Unauthorized", {"error": "bad signature"}
            else:
                if key is not None and key not in self.processed:
                    self.processed[key] = f"cb-{len(self.processed) + 1}"
                status, answer = "200 OK", {"id": self.processed.get(key or "", "cb-no-key")}
            payload = json.dumps(answer).encode()
            head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            writer.write(head.encode() + payload)
            await writer.drain()


@pytest.fixture
async def callback() -> AsyncIterator[CallbackServer]:
    server = CallbackServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# ---------------------------------------------------------------- the app under uvicorn, in this process


@dataclass
class LiveApp:
    base_url: str
    runtime: Runtime
    client: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/api/v1/realtime"


@contextlib.asynccontextmanager
async def serve_app(tmp_path: Path, db_url: str, **overrides: Any) -> AsyncIterator[LiveApp]:
    sock = bound_socket()
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    values: dict[str, Any] = {"run_workers": True, "base_url": base_url, "outbox_poll_seconds": 0.05}
    values.update(overrides)
    settings = make_settings(tmp_path, db_url, **values)
    app = create_app(settings, migrate=False)
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", ws="websockets-sansio", timeout_graceful_shutdown=2
    )
    async with uvicorn_on(sock, config), httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield LiveApp(base_url=base_url, runtime=app.state.runtime, client=client)


@contextlib.asynccontextmanager
async def uvicorn_on(sock: socket.socket, config: uvicorn.Config) -> AsyncIterator[None]:
    """Serve `config.app` on an already bound socket until the block ends; always shut it down."""
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn-{sock.getsockname()[1]}")
    try:

        async def up() -> bool:
            if task.done():
                raise RuntimeError("uvicorn stopped during start-up") from task.exception()
            return server.started

        await eventually(up, timeout=START_TIMEOUT)
        yield
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 10)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sock.close()


async def next_frame(
    ws: ClientConnection, match: Callable[[dict[str, Any]], bool] = lambda _: True, *, timeout: float = FRAME_TIMEOUT
) -> dict[str, Any]:
    """The next frame that matches, skipping others (and keep-alive pings); bounded."""

    async def read() -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame.get("type") != "ping" and match(frame):
                return frame

    return await asyncio.wait_for(read(), timeout)


# ---------------------------------------------------------------- `helpline` subprocesses


def helpline_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `helpline` subprocess: nothing HELPLINE_* inherited, only what we set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "HELPLINE_DATABASE_URL": database_url,
            "HELPLINE_SECRET_KEY": SECRET,
            "HELPLINE_DATA_DIR": str(data_dir),
            "HELPLINE_ALLOW_PRIVATE_TARGETS": "true",
            "HELPLINE_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


# Loaded here, in the parent: the child must do as little as possible between fork and exec.
_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """Runs in the child before exec: if the test run itself is killed, its servers go with it."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_process(name: str, args: list[str], env: Mapping[str, str], workdir: Path) -> Process:
    # cwd is a scratch dir, so no stray .env file is read.
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [str(HELPLINE), *args],
            env=dict(env),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    return Process(name, popen, log_path)


def stop_processes(processes: list[Process], *, timeout: float = 10.0) -> None:
    """SIGTERM all at once (graceful shutdowns overlap), then SIGKILL whatever is still running."""
    for process in processes:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(5)


def kill_process(process: Process) -> None:
    process.popen.send_signal(signal.SIGKILL)
    process.popen.wait(5)


async def wait_healthy(base_url: str, process: Process, *, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while True:
            if process.popen.poll() is not None:
                raise AssertionError(f"{process.name} exited with {process.popen.returncode}:\n{process.log()}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/api/v1/health")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{process.name} not healthy after {timeout}s:\n{process.log()}")
            await asyncio.sleep(0.1)
