"""The deployment of docs/deploy.md: two API processes (`serve --no-workers`) and two `helpline worker`
processes on one PostgreSQL and one Redis — or two `serve --worker-processes 1`, each supervising its worker
child. Traffic goes in through both APIs (accept-fast), the workers ingest it, and every message reaches the
operator sockets on both APIs, once."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import truncate_all
from tests.e2e.conftest import Process, free_port, helpline_env, next_frame, start_process, stop_processes, wait_healthy
from tests.e2e.test_two_processes import cli
from tests.support import signed_inbound

pytestmark = pytest.mark.slow

EMAIL, PASSWORD = "lead@example.com", "correct horse battery"
MESSAGES = 60


async def _created_frames(ws: ClientConnection, count: int) -> dict[str, dict[str, Any]]:
    """The first `count` distinct message.created frames of customer messages, by provider message id (the
    channel's bot answers too: its replies are skipped)."""
    seen: dict[str, dict[str, Any]] = {}

    def inbound(frame: dict[str, Any]) -> bool:
        return bool(frame["type"] == "message.created" and frame["data"]["direction"] == "inbound")

    while len(seen) < count:
        # Generous: the first frames wait for the workers' cold start on a loaded machine.
        frame = await next_frame(ws, inbound, timeout=120)
        pmid = frame["data"]["provider_message_id"]
        assert pmid not in seen or seen[pmid]["event_key"] == frame["event_key"], "one message, two events"
        seen[pmid] = frame
    return seen


@pytest.mark.parametrize("topology", ["separate", "supervised"])
async def test_two_apis_and_two_workers_share_the_load(
    postgres_database: str, redis_url: str, tmp_path: Path, topology: str
) -> None:
    await truncate_all(postgres_database)
    prefix = f"helpline-e2e-{uuid.uuid4().hex[:8]}"
    common = {
        "HELPLINE_REDIS_URL": redis_url,
        "HELPLINE_REDIS_PREFIX": prefix,
        "HELPLINE_DB_POOL_SIZE": "5",
        "HELPLINE_WORKER_BATCH_SIZE": "10",
    }
    setup_env = helpline_env(tmp_path / "cli", postgres_database, **common)
    made_operator, made_channel = await asyncio.gather(
        cli(setup_env, tmp_path, "operator", "create", "--email", EMAIL, "--password", PASSWORD, "--role", "admin"),
        cli(setup_env, tmp_path, "channels", "add", "api", "--name", "Shop"),
    )
    assert "created" in made_operator
    channel_match = re.search(r"channel (\d+) created", made_channel)
    secret_match = re.search(r"secret: (\S+)", made_channel)
    assert channel_match and secret_match, made_channel
    channel_id, secret = int(channel_match[1]), secret_match[1]

    ports = {"a": free_port(), "b": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    processes: list[Process] = []
    try:
        # One after another, as systemd would start them: four cold starts at once on a loaded two-core
        # machine can take longer than the health wait.
        for name, port in ports.items():
            env = helpline_env(tmp_path / name, postgres_database, HELPLINE_BASE_URL=urls[name], **common)
            workers = ["--no-workers"] if topology == "separate" else ["--worker-processes", "1"]
            args = ["serve", *workers, "--host", "127.0.0.1", "--port", str(port)]
            processes.append(start_process(f"serve-{name}", args, env, tmp_path))
            await wait_healthy(urls[name], processes[-1])
        for index in range(2 if topology == "separate" else 0):
            env = helpline_env(tmp_path / f"worker-{index}", postgres_database, **common)
            processes.append(start_process(f"worker-{index}", ["worker"], env, tmp_path))

        async with httpx.AsyncClient(timeout=20) as client:
            login = await client.post(f"{urls['a']}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

            def ws_url(name: str) -> str:
                return urls[name].replace("http://", "ws://") + "/api/v1/realtime"

            async with (
                connect(ws_url("a"), additional_headers=auth, open_timeout=20) as on_a,
                connect(ws_url("b"), additional_headers=auth, open_timeout=20) as on_b,
            ):
                assert (await next_frame(on_a))["type"] == "hello"
                assert (await next_frame(on_b))["type"] == "hello"

                async def send(index: int) -> None:
                    payload = {
                        "contact": {"id": f"c-{index % 7}", "name": f"Customer {index % 7}"},
                        "message": {"id": f"m-{index}", "text": f"message {index}"},
                    }
                    body, headers = signed_inbound(secret, payload, wait=False)
                    target = urls["a" if index % 2 else "b"]
                    response = await client.post(
                        f"{target}/api/v1/channels/{channel_id}/inbound", content=body, headers=headers
                    )
                    assert response.status_code == 200, response.text
                    assert response.json()["status"] == "accepted"

                frames_a = asyncio.create_task(_created_frames(on_a, MESSAGES))
                frames_b = asyncio.create_task(_created_frames(on_b, MESSAGES))
                await asyncio.gather(*(send(i) for i in range(MESSAGES)))
                seen_a, seen_b = await asyncio.gather(frames_a, frames_b)
                expected = {f"m-{i}" for i in range(MESSAGES)}
                assert set(seen_a) == set(seen_b) == expected
                # The same event under the same id and key on both APIs (one sequence for the installation).
                assert all(seen_a[k]["id"] == seen_b[k]["id"] for k in expected)

        assert all(p.popen.poll() is None for p in processes), "a process died"
        conn = await asyncpg.connect(postgres_database.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            inbound = "SELECT count(*) FROM messages WHERE direction = 'inbound'"
            assert await conn.fetchval(inbound) == MESSAGES
            assert await conn.fetchval("SELECT count(*) FROM conversations") == 7
            assert await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = 'ingest.raw'") == 0
            # The channel's bot handled them: routing rows (bundled per batch) reached it, and it answered. Its
            # replies follow the customers' frames asynchronously: wait for them (a bound against hangs only).
            bot_replies = "SELECT count(*) FROM messages WHERE author_kind = 'bot'"
            deadline = asyncio.get_running_loop().time() + 120
            while await conn.fetchval(bot_replies) < 7 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.2)
            assert await conn.fetchval(bot_replies) >= 7
        finally:
            await conn.close()
    except BaseException:
        for process in processes:
            print(f"--- {process.name}\n{process.log()}")
        raise
    finally:
        stop_processes(processes)
        redis = aioredis.from_url(redis_url)
        try:
            keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()
