"""`python -m bench.ingest`: start a server, push signed inbound messages, time the websocket frames."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.ingest.load import LoadConfig, prepare, run_load
from bench.ingest.resources import snapshot, usage
from bench.ingest.server import running_server

PY_SPY = Path(sys.executable).with_name("py-spy")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive HTTP clients")
    parser.add_argument("--messages", type=int, default=5000, help="messages to send in total")
    parser.add_argument("--rate", type=float, default=None, help="pace sends at R msgs/s (open loop)")
    parser.add_argument("--new-contacts", type=float, default=0.3, help="share of messages from new contacts")
    parser.add_argument("--warmup", type=int, default=200, help="messages sent (and not measured) first")
    parser.add_argument("--frame-timeout", type=float, default=15.0, help="seconds to wait for late frames")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="hard cap on the send phase")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="record the server with py-spy during the measured phase (.svg flame graph, .txt collapsed stacks)",
    )
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get("HELPLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("HELPLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--keep-data", action="store_true", help="keep the server's data dir (and its log)")
    parser.add_argument(
        "--workers", type=int, default=0, help="run N separate `helpline worker` processes (postgres backend only)"
    )
    args = parser.parse_args(argv)
    if args.workers and args.backend != "postgres":
        parser.error("--workers needs --backend postgres (realtime frames cross processes through Redis)")
    if args.clients < 1 or args.messages < 1 or (args.rate is not None and args.rate <= 0):
        parser.error("--clients, --messages and --rate must be positive")
    return args


def _start_profiler(path: str, pid: int) -> subprocess.Popen[bytes]:
    fmt = "raw" if path.endswith(".txt") else "speedscope" if path.endswith(".json") else "flamegraph"
    return subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--gil",
            "--format",
            fmt,
            "--output",
            path,
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _stop_profiler(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return
    if proc.returncode not in (0, -signal.SIGINT):
        print(f"py-spy: {err.decode(errors='replace')[-500:]}", file=sys.stderr)


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    async with running_server(
        args.backend,
        postgres_admin_url=args.postgres_admin_url,
        redis_url=args.redis_url,
        keep_data=args.keep_data,
        workers=args.workers,
    ) as server:
        setup = await prepare(server.base_url, server.data_dir)
        if args.warmup:
            # Connections, caches, the first conversations: not what we measure.
            await run_load(
                server.base_url,
                setup,
                LoadConfig(clients=min(args.clients, 8), messages=args.warmup, rate=None, frame_timeout=5.0, seed=0),
            )
        profiler = _start_profiler(args.profile, server.pid) if args.profile else None
        pg_before = await _pg_counters(server.database_url)
        before = snapshot(server.pid)
        try:
            result = await run_load(
                server.base_url,
                setup,
                LoadConfig(
                    clients=args.clients,
                    messages=args.messages,
                    rate=args.rate,
                    new_contact_ratio=args.new_contacts,
                    frame_timeout=args.frame_timeout,
                    max_seconds=args.max_seconds,
                ),
            )
            after = snapshot(server.pid)
        finally:
            if profiler is not None:
                await asyncio.to_thread(_stop_profiler, profiler)
        # The statistics collector reports with a delay of up to a second.
        await asyncio.sleep(1.5)
        pg_after = await _pg_counters(server.database_url)
    resources = usage(before, after, result.accepted)
    if pg_before is not None and pg_after is not None and result.accepted:
        # Connections the server opened during the run (pool growth and overflow churn), and database
        # transactions per accepted message (request + workers; includes pre-ping and a few of our own).
        resources["postgres_sessions_opened"] = pg_after[0] - pg_before[0] - 1
        resources["postgres_transactions_per_message"] = round((pg_after[1] - pg_before[1]) / result.accepted, 2)
    return {
        "benchmark": "ingest",
        "backend": args.backend,
        "clients": args.clients,
        "messages": args.messages,
        "rate": args.rate,
        "new_contact_ratio": args.new_contacts,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **result.summary(),
        "resources": resources,
    }


async def _pg_counters(database_url: str) -> tuple[int, int] | None:
    """pg_stat_database: connections ever opened to the bench database, and transactions run in it."""
    if not database_url.startswith("postgresql"):
        return None
    import asyncpg

    url = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(url, timeout=10)
    try:
        row = await conn.fetchrow(
            "SELECT sessions, xact_commit + xact_rollback AS xacts FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
        return int(row["sessions"]), int(row["xacts"])
    finally:
        await conn.close()


def _print_human(summary: dict[str, Any]) -> None:
    lat, http, res = summary["frame_latency_ms"], summary["http_latency_ms"], summary["resources"]
    pace = f"paced at {summary['rate']:g}/s" if summary["rate"] else "as fast as possible"
    lines = [
        f"ingest · {summary['backend']} · {summary['clients']} clients · {summary['messages']} msgs {pace}",
        f"  accepted {summary['accepted']}/{summary['sent']} in {summary['wall_seconds']:.2f}s"
        f" = {summary['accepted_per_second']:.1f} msgs/s · errors {summary['errors']}",
        f"  POST→message.created frame ms: p50 {lat['p50']} · p95 {lat['p95']} · p99 {lat['p99']} · max {lat['max']}"
        f"  (frames {lat['count']}, missing {summary['missing_frames']}, resyncs {summary['resyncs']})",
        f"  HTTP response ms: p50 {http['p50']} · p95 {http['p95']} · p99 {http['p99']}",
        f"  server CPU {res['server_cpu_ms_per_message']} ms/msg ({res['server_cpu_share_of_one_core']} of a core)"
        f" · client CPU {res['client_cpu_seconds']}s · machine busy {res['machine_busy_fraction']}"
        f" (others: {res['machine_busy_other_cores']} cores)",
    ]
    if "postgres_sessions_opened" in res:
        lines.append(
            f"  PostgreSQL: {res['postgres_sessions_opened']} connections opened during the run,"
            f" {res['postgres_transactions_per_message']} transactions per message"
        )
    if summary["rate"]:
        lines.append(f"  max lag behind the pacing schedule: {summary['max_schedule_lag_ms']} ms")
    if summary["aborted"]:
        lines.append("  ABORTED: hit --max-seconds")
    lines.extend(f"  error: {sample}" for sample in summary["error_samples"])
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    with contextlib.suppress(ImportError):
        import uvloop  # the client side should not be the bottleneck

        uvloop.install()
    summary = asyncio.run(_main(args))
    _print_human(summary)
    if args.json:
        print(json.dumps(summary, separators=(",", ":")))
    return 0 if summary["errors"] == 0 and summary["missing_frames"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
