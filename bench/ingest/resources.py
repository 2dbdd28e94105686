"""CPU accounting around the measured phase, so results stay comparable on a machine others also use:
the server's own CPU seconds per message, this client's, and how busy the whole machine was."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def _machine() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) / _TICK, idle / _TICK


@dataclass
class Snapshot:
    wall: float
    server: float
    client: float
    machine_total: float
    machine_idle: float


def snapshot(server_pid: int | list[int]) -> Snapshot:
    """`server_pid`: one process, or all of a deployment's (API and worker processes: their CPU is summed)."""
    total, idle = _machine()
    pids = server_pid if isinstance(server_pid, list) else [server_pid]
    server = sum(_process_cpu(pid) for pid in pids)
    return Snapshot(time.perf_counter(), server, _process_cpu(os.getpid()), total, idle)


def usage(before: Snapshot, after: Snapshot, messages: int) -> dict[str, Any]:
    wall = after.wall - before.wall
    total = after.machine_total - before.machine_total
    busy = total - (after.machine_idle - before.machine_idle)
    server = after.server - before.server
    client = after.client - before.client
    return {
        "server_cpu_seconds": round(server, 2),
        "server_cpu_ms_per_message": round(1000 * server / messages, 3) if messages else None,
        "server_cpu_share_of_one_core": round(server / wall, 2) if wall else None,
        "client_cpu_seconds": round(client, 2),
        "machine_busy_fraction": round(busy / total, 2) if total else None,
        "machine_busy_other_cores": round((busy - server - client) / wall, 2) if wall else None,
    }
