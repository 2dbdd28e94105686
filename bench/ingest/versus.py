"""`python -m bench.ingest.versus`: wrk against the bare ceiling app and against Helpline, side by side.

One run, same machine, same PostgreSQL, same pre-signed requests (issue 8): first the ceiling app
(`bench/ingest/ceiling.py`: HMAC + JSON + one INSERT), then one `helpline serve` process (in-process workers,
or `--workers M` separate `helpline worker` processes). Prints accepted/s for both and their ratio, and for
Helpline processed/s (messages stored and visible, measured from the start of the load until the last one
is stored), the backlog sampled during the load, and the server's CPU ms per accepted message.

    .venv/bin/python -m bench.ingest.versus --duration 20             # PostgreSQL + Redis, 32 connections
    .venv/bin/python -m bench.ingest.versus --duration 60 --json      # the sustained run
    .venv/bin/python -m bench.ingest.versus --backend sqlite          # Helpline on SQLite (ceiling still on PG)
    .venv/bin/python -m bench.ingest.versus --api-processes 2 --worker-processes 2 --versus-one-process

With several API processes, one wrk per port shares the connections, each with its own bodies; CPU is
summed over every process of the deployment (APIs and workers). The backlog (messages stored, outbox rows
pending) is sampled every 5 s of the load; `backlog` says whether it stayed bounded (the pending rows'
growth over the second half of the load, per second, against the accepted rate).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from bench.ingest.load import prepare
from bench.ingest.resources import _process_cpu, snapshot, usage
from bench.ingest.server import free_port, postgres_database, running_server

LUA = Path(__file__).with_name("wrk.lua")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.versus", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per target")
    parser.add_argument("--requests", type=int, default=60000, help="distinct pre-signed bodies")
    parser.add_argument("--new-contacts", type=float, default=0.3)
    parser.add_argument("--drain-timeout", type=float, default=120.0, help="seconds to wait for processing")
    parser.add_argument(
        "--workers",
        "--worker-processes",
        dest="workers",
        type=int,
        default=0,
        help="separate `helpline worker` processes",
    )
    parser.add_argument("--api-processes", type=int, default=1, help="`helpline serve` processes, one port each")
    parser.add_argument(
        "--versus-one-process",
        action="store_true",
        help="also measure one `helpline serve` (worker thread) in the same run, for the scale-out ratio",
    )
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get("HELPLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("HELPLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    return parser.parse_args(argv)


WARM_UP_REQUESTS = 20_000  # distinct bodies for the 2 s warm-up (≈ 8,000 are sent on a quiet machine)


def write_requests(path: Path, secret: bytes, count: int, new_contacts: float) -> None:
    """`count` lines "signature<TAB>body": unique message ids; a share of new contacts, the rest reuse one of
    the 500 first contacts (so conversations gather several messages, as in real traffic)."""
    run = uuid.uuid4().hex[:8]
    step = max(1, round(1 / new_contacts)) if new_contacts > 0 else 0
    with path.open("w") as out:
        for i in range(count):
            contact = f"c-{run}-{i}" if (step and i % step == 0) or i < 500 else f"c-{run}-{(i * 7919) % 500}"
            body = json.dumps(
                {
                    "contact": {"id": contact, "name": f"Customer {contact[-6:]}"},
                    "message": {"id": f"m-{run}-{i}", "text": f"Hello, this is message {i}; my order has not arrived."},
                },
                separators=(",", ":"),
            )
            signature = "sha256=" + hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
            out.write(f"{signature}\t{body}\n")


async def run_wrk(url: str, path: str, requests_file: Path, args: argparse.Namespace, duration: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout", "30s", "-s", str(LUA)]
    command += [url, "--", str(requests_file), path, str(args.threads)]
    proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    line = next((ln for ln in reversed(text.splitlines()) if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{text}")
    figures: dict[str, Any] = json.loads(line)
    seconds = figures["duration_us"] / 1e6
    ok = figures["requests"] - figures["non_2xx"]
    figures["accepted_per_second"] = round(ok / seconds, 1)
    figures["latency_ms"] = {k: round(figures[f"{k}_us"] / 1000, 2) for k in ("p50", "p90", "p99", "max")}
    return figures


@contextlib.asynccontextmanager
async def ceiling_server(dsn: str, secret: bytes) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    env = {**os.environ, "HELPLINE_CEILING_DSN": dsn, "HELPLINE_CEILING_SECRET": secret.decode()}
    command = [sys.executable, "-m", "uvicorn", "bench.ingest.ceiling:app", "--port", str(port)]
    proc = await asyncio.create_subprocess_exec(
        *command, "--log-level", "warning", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.1)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


def stored_counter(database_url: str) -> Callable[[], Awaitable[dict[str, int]]]:
    """Messages stored and work still queued (raw inbound events + outbox rows), read straight from the DB."""
    if database_url.startswith("sqlite"):
        db_path = database_url.split("///", 1)[1]

        async def count_sqlite() -> dict[str, int]:
            def read() -> dict[str, int]:
                with contextlib.closing(sqlite3.connect(db_path, timeout=30)) as conn:
                    return _counts(lambda q: int(conn.execute(q).fetchone()[0]), _tables(conn))

            return await asyncio.to_thread(read)

        return count_sqlite
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def count_pg() -> dict[str, int]:
        conn = await asyncpg.connect(dsn)
        try:
            names = {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            values = {}
            for key, query in _queries(names).items():
                values[key] = int(await conn.fetchval(query))
            return values
        finally:
            await conn.close()

    return count_pg


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _queries(tables: set[str]) -> dict[str, str]:
    queries = {
        "messages": "SELECT count(*) FROM messages",
        "outbox_pending": "SELECT count(*) FROM outbox WHERE status = 'pending'",
    }
    if "inbound_events" in tables:
        queries["inbound_pending"] = "SELECT count(*) FROM inbound_events WHERE status = 'pending'"
    return queries


def _counts(fetch: Callable[[str], int], tables: set[str]) -> dict[str, int]:
    return {key: fetch(query) for key, query in _queries(tables).items()}


async def run_wrk_on_all(
    urls: list[str], path: str, files: list[Path], args: argparse.Namespace, duration: int
) -> dict[str, Any]:
    """One wrk per API process at once (the connections shared out); figures added up, latency the worst."""
    share = argparse.Namespace(**{**vars(args), "connections": max(args.threads, args.connections // len(urls))})
    runs = await asyncio.gather(
        *(run_wrk(url + path, path, file, share, duration) for url, file in zip(urls, files, strict=True))
    )
    if len(runs) == 1:
        return runs[0]
    total: dict[str, Any] = {
        key: sum(r[key] for r in runs)
        for key in ("requests", "non_2xx", "connect_errors", "read_errors", "timeouts", "accepted_per_second")
    }
    total["latency_ms"] = {k: max(r["latency_ms"][k] for r in runs) for k in runs[0]["latency_ms"]}
    total["per_process"] = [{k: r[k] for k in ("requests", "accepted_per_second", "latency_ms")} for r in runs]
    return total


def backlog_verdict(samples: list[dict[str, Any]], accepted_per_second: float) -> dict[str, Any]:
    """Whether the pending rows stayed bounded: their growth per second over the second half of the load
    (least squares), against the accepted rate. Bounded when it grows by less than 2 % of what comes in."""
    half = [s for s in samples if s["t"] >= samples[-1]["t"] / 2] if samples else []
    if len(half) < 2:
        return {"growth_per_second": None, "bounded": None}
    ts = [s["t"] for s in half]
    ys = [s["outbox_pending"] for s in half]
    mean_t, mean_y = sum(ts) / len(ts), sum(ys) / len(ys)
    slope = sum((t - mean_t) * (y - mean_y) for t, y in zip(ts, ys, strict=True)) / sum((t - mean_t) ** 2 for t in ts)
    return {"growth_per_second": round(slope, 1), "bounded": slope < 0.02 * max(accepted_per_second, 1.0)}


async def measure_helpline(args: argparse.Namespace) -> dict[str, Any]:
    async with running_server(
        args.backend,
        postgres_admin_url=args.postgres_admin_url,
        redis_url=args.redis_url,
        workers=args.workers,
        api_processes=args.api_processes,
    ) as server:
        setup = await prepare(server.base_url, server.data_dir)
        urls = server.base_urls or [server.base_url]
        files = [server.data_dir / f"requests-{i}.tsv" for i in range(len(urls))]
        # The warm-up gets bodies of its own: replaying the measured ones would make the first part of the
        # measured load duplicates (stored nothing new, yet cost the workers their time).
        warm_files = [server.data_dir / f"warm-up-{i}.tsv" for i in range(len(urls))]
        for file in files:
            write_requests(file, setup.secret, args.requests // len(urls), args.new_contacts)
        for file in warm_files:
            write_requests(file, setup.secret, WARM_UP_REQUESTS // len(urls), args.new_contacts)
        count = stored_counter(server.database_url)
        path = f"/api/v1/channels/{setup.channel_id}/inbound"
        pids = server.pids or [server.pid]
        await run_wrk_on_all(urls, path, warm_files, args, 2)  # warm-up, not measured
        # Measure from a drained state with every worker running (a worker process's cold start can take
        # longer than the warm-up on a loaded machine; its rows would otherwise count as backlog).
        deadline = time.perf_counter() + args.drain_timeout
        while time.perf_counter() < deadline:
            if not (await count())["outbox_pending"]:
                break
            await asyncio.sleep(0.5)
        base = (await count())["messages"]
        samples: list[dict[str, Any]] = []
        before = snapshot(pids)
        start = time.perf_counter()

        async def sample() -> None:
            while True:
                await asyncio.sleep(5)
                samples.append({"t": round(time.perf_counter() - start, 1), **(await count())})

        sampler = asyncio.create_task(sample())
        figures = await run_wrk_on_all(urls, path, files, args, args.duration)
        sampler.cancel()
        after = snapshot(pids)
        accepted = figures["requests"] - figures["non_2xx"]
        target = min(accepted, (args.requests // len(urls)) * len(urls))  # bodies repeat once a file is exhausted
        stored = base
        deadline = time.perf_counter() + args.drain_timeout
        done_at = time.perf_counter()
        while time.perf_counter() < deadline:
            state = await count()
            if state["messages"] != stored:
                stored, done_at = state["messages"], time.perf_counter()
            if stored - base >= target and not state.get("inbound_pending", 0):
                break
            await asyncio.sleep(0.25)
        drained = snapshot(pids)
        return {
            "api_processes": len(urls),
            "per_process": figures.get("per_process"),
            "backlog": backlog_verdict(samples, figures["accepted_per_second"]),
            "accepted": accepted,
            "accepted_per_second": figures["accepted_per_second"],
            "http_latency_ms": figures["latency_ms"],
            "errors": {k: figures[k] for k in ("non_2xx", "connect_errors", "read_errors", "timeouts")},
            "stored": stored - base,
            "processed_per_second": round((stored - base) / (done_at - start), 1),
            "drain_seconds_after_load": round(max(0.0, done_at - start - args.duration), 1),
            "backlog_samples": samples,
            "during_load": usage(before, after, accepted),
            "until_drained": usage(before, drained, stored - base),
        }


async def measure_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    async with postgres_database(args.postgres_admin_url) as url:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        secret = b"ceiling-secret"
        with tempfile.TemporaryDirectory(prefix="ceiling-") as tmp:
            requests_file = Path(tmp) / "requests.tsv"
            write_requests(requests_file, secret, args.requests, args.new_contacts)
            async with ceiling_server(dsn, secret) as (base_url, pid):
                path = "/api/v1/channels/1/inbound"
                await run_wrk(base_url + path, path, requests_file, args, 2)
                cpu0, t0 = _process_cpu(pid), time.perf_counter()
                figures = await run_wrk(base_url + path, path, requests_file, args, args.duration)
                cpu = _process_cpu(pid) - cpu0
                accepted = figures["requests"] - figures["non_2xx"]
                return {
                    "accepted": accepted,
                    "accepted_per_second": figures["accepted_per_second"],
                    "http_latency_ms": figures["latency_ms"],
                    "non_2xx": figures["non_2xx"],
                    "server_cpu_ms_per_message": round(1000 * cpu / accepted, 3) if accepted else None,
                    "server_cpu_share_of_one_core": round(cpu / (time.perf_counter() - t0), 2),
                }


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "uptime_before": _uptime(),
        "backend": args.backend,
        "api_processes": args.api_processes,
        "workers": args.workers,
    }
    if not args.skip_ceiling:
        report["ceiling"] = await measure_ceiling(args)
    report["helpline"] = await measure_helpline(args)
    if args.versus_one_process:
        one = argparse.Namespace(**{**vars(args), "api_processes": 1, "workers": 0})
        report["one_process"] = await measure_helpline(one)
        for key in ("accepted_per_second", "processed_per_second"):
            report[f"scale_out_{key}_ratio"] = round(report["helpline"][key] / max(report["one_process"][key], 0.1), 2)
    report["uptime_after"] = _uptime()
    if "ceiling" in report and report["ceiling"]["accepted_per_second"]:
        ceiling = report["ceiling"]["accepted_per_second"]
        report["ratio_accepted"] = round(report["helpline"]["accepted_per_second"] / ceiling, 3)
        report["ratio_processed"] = round(report["helpline"]["processed_per_second"] / ceiling, 3)
    return report


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    report = asyncio.run(_main(args))
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
