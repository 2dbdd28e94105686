"""The load: C keep-alive HTTP clients posting signed inbound messages, one operator websocket timing the
`message.created` frames that come back."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.ingest.stats import percentile

HTTP_TIMEOUT = 30.0


@dataclass
class LoadConfig:
    clients: int
    messages: int
    rate: float | None  # msgs/s, open-loop pacing; None = as fast as possible
    new_contact_ratio: float = 0.3
    frame_timeout: float = 15.0
    max_seconds: float = 240.0  # hard cap on the send phase
    seed: int = 1


@dataclass
class Setup:
    token: str
    channel_id: int
    secret: bytes


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    http_latencies_ms: list[float] = field(default_factory=list)
    missing_frames: int = 0
    resyncs: int = 0
    max_schedule_lag_ms: float = 0.0
    aborted: bool = False

    def summary(self) -> dict[str, Any]:
        lat, http = sorted(self.latencies_ms), sorted(self.http_latencies_ms)
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "errors": self.errors,
            "wall_seconds": round(self.wall_seconds, 3),
            "accepted_per_second": round(self.accepted / self.wall_seconds, 1) if self.wall_seconds else 0.0,
            "frame_latency_ms": {
                "p50": percentile(lat, 50),
                "p95": percentile(lat, 95),
                "p99": percentile(lat, 99),
                "max": round(lat[-1], 2) if lat else None,
                "count": len(lat),
            },
            "http_latency_ms": {
                "p50": percentile(http, 50),
                "p95": percentile(http, 95),
                "p99": percentile(http, 99),
            },
            "missing_frames": self.missing_frames,
            "resyncs": self.resyncs,
            "max_schedule_lag_ms": round(self.max_schedule_lag_ms, 1),
            "aborted": self.aborted,
            "error_samples": self.error_samples[:5],
        }


async def prepare(base_url: str, data_dir: Path) -> Setup:
    """Log in as the first admin and create an API channel without the bot; return its signing secret."""
    lines = dict(
        line.split(": ", 1) for line in (data_dir / "initial-admin.txt").read_text().splitlines() if ": " in line
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT) as client:
        credentials = {"email": lines["email"], "password": lines["password"]}
        response = await client.post("/api/v1/auth/login", json=credentials)
        response.raise_for_status()
        token = response.json()["access_token"]
        response = await client.post(
            "/api/v1/channels",
            json={"kind": "api", "name": "bench", "settings": {"bot_enabled": False}},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        body = response.json()
    return Setup(token=token, channel_id=int(body["id"]), secret=str(body["secrets"]["secret"]).encode())


class FrameWatcher:
    """Reads the operator socket and stamps the arrival time of every `message.created` frame."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.arrivals: dict[str, float] = {}
        self.resyncs = 0
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ws: Any = None

    async def start(self) -> None:
        self._ws = await websockets.connect(
            self.url,
            max_size=None,
            max_queue=None,
            open_timeout=10,
            additional_headers={"Authorization": f"Bearer {self.token}"},
        )
        hello = json.loads(await asyncio.wait_for(self._ws.recv(), timeout=10))
        if hello.get("type") != "hello":
            raise RuntimeError(f"unexpected first frame: {hello}")
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self._ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message.created":
                pmid = (frame.get("data") or {}).get("provider_message_id")
                if pmid is not None:
                    self.arrivals.setdefault(pmid, now)
                    self.changed.set()
            elif kind == "resync":
                self.resyncs += 1

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._ws is not None:
            await self._ws.close()


def _sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


async def run_load(base_url: str, setup: Setup, config: LoadConfig) -> LoadResult:
    rng = random.Random(config.seed)
    run_id = uuid.uuid4().hex[:8]
    ws_url = base_url.replace("http://", "ws://", 1) + "/api/v1/realtime"
    watcher = FrameWatcher(ws_url, setup.token)
    await watcher.start()

    result = LoadResult()
    sent_at: dict[str, float] = {}
    accepted: set[str] = set()
    known_contacts: list[str] = []  # contacts whose first message was accepted: "existing" from then on
    next_index = 0
    url = f"/api/v1/channels/{setup.channel_id}/inbound"
    limits = httpx.Limits(max_connections=config.clients, max_keepalive_connections=config.clients)

    async with httpx.AsyncClient(base_url=base_url, timeout=HTTP_TIMEOUT, limits=limits) as client:
        start = time.perf_counter()
        deadline = start + config.max_seconds

        async def one_client() -> None:
            nonlocal next_index
            while next_index < config.messages:
                index = next_index
                next_index += 1
                if config.rate:
                    due = start + index / config.rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    else:
                        result.max_schedule_lag_ms = max(result.max_schedule_lag_ms, -delay * 1000)
                if time.perf_counter() > deadline:
                    result.aborted = True
                    return
                if not known_contacts or rng.random() < config.new_contact_ratio:
                    contact_id, new = f"c-{run_id}-{index}", True
                else:
                    contact_id, new = rng.choice(known_contacts), False
                pmid = f"m-{run_id}-{index}"
                body = json.dumps(
                    {
                        "contact": {"id": contact_id, "name": f"Customer {contact_id[-6:]}"},
                        "message": {"id": pmid, "text": f"Hello, this is message {index}; my order has not arrived."},
                    },
                    separators=(",", ":"),
                ).encode()
                headers = {"Content-Type": "application/json", "X-Helpline-Signature": _sign(setup.secret, body)}
                result.sent += 1
                t0 = time.perf_counter()
                sent_at[pmid] = t0
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    result.errors += 1
                    result.error_samples.append(f"{type(exc).__name__}: {exc}")
                    continue
                result.http_latencies_ms.append((time.perf_counter() - t0) * 1000)
                if response.is_success:
                    result.accepted += 1
                    accepted.add(pmid)
                    if new:
                        known_contacts.append(contact_id)
                else:
                    result.errors += 1
                    result.error_samples.append(f"HTTP {response.status_code}: {response.text[:200]}")

        await asyncio.gather(*(one_client() for _ in range(config.clients)))
        result.wall_seconds = time.perf_counter() - start

    # Frames still in flight get `frame_timeout` seconds after the last response.
    wait_until = time.perf_counter() + config.frame_timeout
    while not accepted.issubset(watcher.arrivals.keys()) and time.perf_counter() < wait_until:
        watcher.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watcher.changed.wait(), timeout=max(0.01, wait_until - time.perf_counter()))
    await watcher.close()

    for pmid in accepted:
        arrived = watcher.arrivals.get(pmid)
        if arrived is None:
            result.missing_frames += 1
        else:
            result.latencies_ms.append((arrived - sent_at[pmid]) * 1000)
    result.resyncs = watcher.resyncs
    return result
