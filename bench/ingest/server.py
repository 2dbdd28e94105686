"""Start and stop a real `helpline serve` subprocess on a free loopback port, with a fresh data dir and,
for PostgreSQL, a fresh database (created and dropped here) plus Redis under a unique key prefix."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

HELPLINE_BIN = Path(sys.executable).with_name("helpline")
STARTUP_TIMEOUT = 60.0


@dataclass
class Server:
    base_url: str
    pid: int
    data_dir: Path
    database_url: str
    log_path: Path
    # Every API process's URL (the first is `base_url`) and every process's pid (APIs, then workers).
    base_urls: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A throw-away database; yields its SQLAlchemy URL and drops it afterwards."""
    name = f"helpline_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(admin_url, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def _wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"helpline serve exited with {proc.returncode}:\n{_tail(log_path)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base_url}/api/v1/health")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"helpline serve did not become healthy in {STARTUP_TIMEOUT:.0f}s")


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


def _spawn(port: int, env: dict[str, str], cwd: Path, log_path: Path, *, workers: int = 0) -> subprocess.Popen[bytes]:
    command = [str(HELPLINE_BIN), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-demo"]
    if workers:
        command.append("--no-workers")
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            command,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )


def _spawn_worker(env: dict[str, str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            [str(HELPLINE_BIN), "worker"], env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=cwd
        )


@contextlib.asynccontextmanager
async def running_server(
    backend: str,
    *,
    postgres_admin_url: str,
    redis_url: str,
    keep_data: bool = False,
    workers: int = 0,
    api_processes: int = 1,
) -> AsyncIterator[Server]:
    """`workers` > 0 runs the outbox workers as that many separate `helpline worker` processes (scaled-out
    mode, PostgreSQL + Redis), instead of in a thread of each server process; `api_processes` starts that
    many `helpline serve` processes on their own ports (same database and Redis)."""
    data_dir = Path(tempfile.mkdtemp(prefix="helpline-bench-"))
    async with contextlib.AsyncExitStack() as stack:
        env = {
            **os.environ,
            "HELPLINE_DATA_DIR": str(data_dir),
            "HELPLINE_SECRET_KEY": secrets.token_urlsafe(48),
            "HELPLINE_LOG_LEVEL": "WARNING",
            # Capacity, not policy: the flood limits (docs/security.md) would answer the load with 429s.
            "HELPLINE_INBOUND_CHANNEL_LIMIT": "",
            "HELPLINE_INBOUND_CONTACT_LIMIT": "",
        }
        for key in ("HELPLINE_DATABASE_URL", "HELPLINE_REDIS_URL", "HELPLINE_REDIS_PREFIX", "HELPLINE_DEMO"):
            env.pop(key, None)
        if backend == "postgres":
            database_url = await stack.enter_async_context(postgres_database(postgres_admin_url))
            env["HELPLINE_DATABASE_URL"] = database_url
            env["HELPLINE_REDIS_URL"] = redis_url
            env["HELPLINE_REDIS_PREFIX"] = f"bench-{uuid.uuid4().hex[:10]}"
        else:
            database_url = f"sqlite+aiosqlite:///{data_dir / 'helpline.db'}"
            env["HELPLINE_DATABASE_URL"] = database_url
        ports = [free_port() for _ in range(api_processes)]
        base_urls = [f"http://127.0.0.1:{port}" for port in ports]
        env["HELPLINE_BASE_URL"] = base_urls[0]
        log_path = data_dir / "server.log"
        procs: list[subprocess.Popen[bytes]] = []
        worker_procs: list[subprocess.Popen[bytes]] = []
        try:
            for index, (port, url) in enumerate(zip(ports, base_urls, strict=True)):
                # One after another: the first applies the migrations.
                path = log_path if index == 0 else data_dir / f"server-{index}.log"
                procs.append(_spawn(port, env, data_dir, path, workers=workers))
                await _wait_healthy(url, procs[-1], path)
            worker_procs = [_spawn_worker(env, data_dir, data_dir / f"worker-{i}.log") for i in range(workers)]
            yield Server(
                base_url=base_urls[0],
                pid=procs[0].pid,
                data_dir=data_dir,
                database_url=database_url,
                log_path=log_path,
                base_urls=base_urls,
                pids=[p.pid for p in (*procs, *worker_procs)],
            )
        finally:
            for worker_proc in worker_procs:
                worker_proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    await asyncio.to_thread(worker_proc.wait, 10)
                if worker_proc.poll() is None:
                    worker_proc.kill()
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                    try:
                        await asyncio.to_thread(proc.wait, 20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        await asyncio.to_thread(proc.wait, 10)
            if backend == "postgres":
                # Our Redis keys (the realtime sequence) go with the run.
                with contextlib.suppress(Exception):
                    import redis.asyncio as aioredis

                    client = aioredis.from_url(redis_url)
                    try:
                        keys = [k async for k in client.scan_iter(match=f"{env['HELPLINE_REDIS_PREFIX']}:*")]
                        if keys:
                            await client.delete(*keys)
                    finally:
                        await client.aclose()
    if keep_data:
        print(f"data dir kept: {data_dir}", file=sys.stderr)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
