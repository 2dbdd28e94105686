"""kill -9 of the worker in the middle of a burst: every side effect is counted per message afterwards.

Black box: real `helpline serve --no-workers` and `helpline worker` processes sharing the database and Redis,
HTTP in (500 signed inbound messages on an API channel whose bot answers), counts out (the API, the
provider's callback receiver, an outgoing-webhook receiver and an operator's websocket). After the worker is
killed ~3 s into the burst and a new one started, the contracts of docs/architecture.md must hold:
inbound messages and bot replies exactly once, provider sends exactly once per Idempotency-Key, outgoing
webhooks at least once with ONE delivery id per event, realtime frames at least once with ONE event_key per
event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.conftest import (
    CallbackServer,
    Process,
    eventually,
    free_port,
    helpline_env,
    kill_process,
    start_process,
    stop_processes,
    wait_healthy,
)
from tests.e2e.test_two_processes import cli
from tests.support import signed_inbound

pytestmark = pytest.mark.slow

MESSAGES = 500
CONCURRENCY = 8
KILL_AFTER_SECONDS = 3.0
LEASE_SECONDS = 2
DRAIN_TIMEOUT = 600.0  # a bound against a hang on a loaded machine, not a timing assertion
EMAIL, PASSWORD = "boss@example.com", "correct horse battery"


async def read_frames(ws: ClientConnection, frames: list[dict[str, Any]]) -> None:
    """Everything the socket receives, until it closes (keep-alive pings left out)."""
    with contextlib.suppress(Exception):
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") != "ping":
                frames.append(frame)


async def burst(client: httpx.AsyncClient, url: str, secret: str) -> list[int]:
    """POST the MESSAGES signed messages, CONCURRENCY at a time, each from its own customer; their statuses."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> int:
        body, headers = signed_inbound(
            secret,
            {"contact": {"id": f"c-{i}", "name": f"Customer {i}"}, "message": {"id": f"m-{i}", "text": f"order {i}"}},
        )
        async with gate:
            for _ in range(20):
                # The API never goes down here, but a loaded machine may refuse a connection: resend, as a
                # provider does (the message id makes the resend harmless).
                with contextlib.suppress(httpx.TransportError):
                    return (await client.post(url, content=body, headers=headers)).status_code
                await asyncio.sleep(0.2)
            return 0

    return list(await asyncio.gather(*(one(i) for i in range(MESSAGES))))


async def all_pages(client: httpx.AsyncClient, path: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await client.get(path, params=params, headers=auth)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


async def test_kill_9_of_the_worker_mid_burst_repeats_no_side_effect(
    tmp_path: Path, db_url: str, redis_url: str, callback: CallbackServer
) -> None:
    hooks = CallbackServer()
    await hooks.start()
    prefix = f"helpline-crash-{uuid.uuid4().hex[:8]}"
    common = {
        "HELPLINE_REDIS_URL": redis_url,
        "HELPLINE_REDIS_PREFIX": prefix,
        "HELPLINE_OUTBOX_POLL_SECONDS": "0.1",
        "HELPLINE_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "HELPLINE_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
        "HELPLINE_OUTBOX_BACKOFF_MAX_SECONDS": "0.5",
    }
    setup_env = helpline_env(tmp_path / "cli", db_url, **common)
    _, made = await asyncio.gather(
        cli(setup_env, tmp_path, "operator", "create", "--email", EMAIL, "--password", PASSWORD, "--role", "admin"),
        cli(
            setup_env,
            tmp_path,
            *("channels", "add", "api", "--name", "Shop"),
            *("--setting", "bot_enabled=true", "--setting", f"callback_url={callback.url}"),
        ),
    )
    channel_match, secret_match = re.search(r"channel (\d+) created", made), re.search(r"secret: (\S+)", made)
    assert channel_match and secret_match, made
    channel_id, callback.secret = int(channel_match[1]), secret_match[1]

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    api_env = helpline_env(tmp_path / "api", db_url, HELPLINE_BASE_URL=base_url, **common)
    worker_env = helpline_env(tmp_path / "worker", db_url, HELPLINE_BASE_URL=base_url, **common)
    processes: list[Process] = []
    frames: list[dict[str, Any]] = []
    try:
        api = start_process(
            "serve", ["serve", "--no-workers", "--host", "127.0.0.1", "--port", str(port)], api_env, tmp_path
        )
        processes.append(api)
        await wait_healthy(base_url, api)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            login = await client.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            made_hook = await client.post(
                "/api/v1/webhooks", json={"url": hooks.url, "events": ["message.created"]}, headers=auth
            )
            assert made_hook.status_code == 201, made_hook.text
            hooks.secret = made_hook.json()["secret"]

            ws_url = base_url.replace("http://", "ws://") + "/api/v1/realtime"
            async with connect(ws_url, additional_headers=auth, open_timeout=20, max_queue=None) as ws:
                reader = asyncio.create_task(read_frames(ws, frames))
                processes.append(start_process("worker-1", ["worker"], worker_env, tmp_path))
                sending = asyncio.create_task(burst(client, f"/api/v1/channels/{channel_id}/inbound", callback.secret))
                started = time.monotonic()
                # Killed ~3 s into the worker's work (its start-up, imports and all, is not counted).
                await callback.wait_for_requests(1, timeout=DRAIN_TIMEOUT)
                await asyncio.sleep(KILL_AFTER_SECONDS)
                kill_process(processes[1])
                handled_at_kill = len(callback.processed)
                processes.append(start_process("worker-2", ["worker"], worker_env, tmp_path))
                statuses = await sending
                assert statuses == [200] * MESSAGES
                burst_seconds = time.monotonic() - started

                async def drained() -> bool:
                    if (
                        len(callback.processed) < MESSAGES
                        or len({r.body["source_event_id"] for r in hooks.requests}) < 2 * MESSAGES
                    ):
                        return False
                    overview = (await client.get("/api/v1/outbox", headers=auth)).json()
                    return bool(overview["pending"] == 0 and overview["dead"] == 0)

                await eventually(drained, timeout=DRAIN_TIMEOUT, every=0.5)
                await asyncio.sleep(0.5)  # frames published by the last rows reach the socket
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            drain_seconds = time.monotonic() - started

            conversations = await all_pages(client, "/api/v1/conversations", auth)
            messages: dict[int, list[dict[str, Any]]] = {}
            for conversation in conversations:
                messages[conversation["id"]] = await all_pages(
                    client, f"/api/v1/conversations/{conversation['id']}/messages", auth
                )
        print(
            f"burst {MESSAGES} in {burst_seconds:.1f}s, drained after {drain_seconds:.1f}s; provider sends "
            f"{len(callback.requests)} requests / {len(callback.processed)} keys ({handled_at_kill} before the kill); "
            f"webhooks {len(hooks.requests)} requests / {len(hooks.processed)} keys; frames {len(frames)}"
        )
        # The kill must land mid-burst: some replies went out before it, not all of them.
        assert 0 < handled_at_kill < MESSAGES

        # Inbound messages: exactly once, one conversation per customer.
        assert len(conversations) == MESSAGES
        inbound = [m for items in messages.values() for m in items if m["direction"] == "inbound"]
        assert sorted(m["provider_message_id"] for m in inbound) == sorted(f"m-{i}" for i in range(MESSAGES))
        assert all(len([m for m in items if m["direction"] == "inbound"]) == 1 for items in messages.values())

        # Bot replies: exactly one per customer message, sent, with the id the provider gave it.
        bot = {m["id"]: m for items in messages.values() for m in items if m["author_kind"] == "bot"}
        assert all(len([m for m in items if m["author_kind"] == "bot"]) == 1 for items in messages.values())
        assert all(m["delivery_state"] == "sent" for m in bot.values())
        outbound = [m for items in messages.values() for m in items if m["direction"] == "outbound"]
        assert len(outbound) == MESSAGES

        # Provider sends: one Idempotency-Key per reply, each repeat byte-identical; the recorded provider id
        # is the one the provider processed (the receiver dedupes on the key, as the API channel documents).
        assert all(r.signature_ok for r in callback.requests)
        assert set(callback.processed) == {f"helpline-message-{i}" for i in bot}
        assert {m["provider_message_id"] for m in bot.values()} == set(callback.processed.values())
        for message_id, message in bot.items():
            assert callback.processed[f"helpline-message-{message_id}"] == message["provider_message_id"]
        sent_bodies: dict[str | None, set[str]] = defaultdict(set)
        for request in callback.requests:
            sent_bodies[request.idempotency_key].add(json.dumps(request.body, sort_keys=True))
        assert all(len(bodies) == 1 for bodies in sent_bodies.values())

        # Outgoing webhooks: every message.created delivered at least once, ONE delivery id per event.
        assert all(r.signature_ok for r in hooks.requests)
        deliveries_of: dict[int, set[int]] = defaultdict(set)  # message id → delivery ids
        for request in hooks.requests:
            assert request.body["event"] == "message.created"
            assert request.idempotency_key == f"helpline-webhook-{request.body['id']}"
            deliveries_of[request.body["data"]["id"]].add(request.body["id"])
        every_message = {m["id"] for items in messages.values() for m in items if m["content_type"] != "event"}
        assert set(deliveries_of) == every_message
        assert all(len(ids) == 1 for ids in deliveries_of.values())

        # Realtime: every message.created frame arrived, and a repeated one kept its event_key (clients drop
        # it); the socket was never told to resync, so this is everything the operator saw.
        assert not [f for f in frames if f["type"] == "resync"]
        keys_of: dict[int, set[str]] = defaultdict(set)
        data_of: dict[str, set[str]] = defaultdict(set)
        for frame in frames:
            if frame["type"] == "message.created":
                keys_of[frame["data"]["id"]].add(frame["event_key"])
                data_of[frame["event_key"]].add(json.dumps(frame["data"], sort_keys=True))
        assert set(keys_of) == every_message
        assert all(len(keys) == 1 for keys in keys_of.values())
        assert all(len(copies) == 1 for copies in data_of.values())
        ids = [f["id"] for f in frames if "id" in f and f["type"] != "hello"]
        assert len(ids) == len(set(ids))  # the replay sequence itself never repeats
    except BaseException:
        for process in processes:
            print(f"--- {process.name}\n{process.log()}")
        raise
    finally:
        stop_processes(processes)
        await hooks.stop()
        redis = aioredis.from_url(redis_url)
        try:
            keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()
