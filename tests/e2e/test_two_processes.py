"""Two `helpline serve` processes sharing PostgreSQL and Redis: a frame caused on A reaches a socket on B."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from websockets.asyncio.client import connect

from tests.conftest import truncate_all
from tests.e2e.conftest import (
    HELPLINE,
    Process,
    free_port,
    helpline_env,
    next_frame,
    start_process,
    stop_processes,
    wait_healthy,
)
from tests.support import signed_inbound

EMAIL, PASSWORD = "lead@example.com", "correct horse battery"


async def cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(HELPLINE),
        *args,
        env=env,
        cwd=workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode()
    assert process.returncode == 0, text
    return text


async def test_frame_caused_on_one_process_reaches_a_socket_on_the_other(
    postgres_database: str, redis_url: str, tmp_path: Path
) -> None:
    await truncate_all(postgres_database)
    prefix = f"helpline-e2e-{uuid.uuid4().hex[:8]}"
    common = {"HELPLINE_REDIS_URL": redis_url, "HELPLINE_REDIS_PREFIX": prefix, "HELPLINE_OUTBOX_POLL_SECONDS": "0.1"}
    setup_env = helpline_env(tmp_path / "cli", postgres_database, **common)

    # An operator and a channel, made with the CLI before any server starts (so no first admin is made).
    made_operator, made_channel = await asyncio.gather(
        cli(
            setup_env, tmp_path, "operator", "create", "--email", EMAIL, "--password", PASSWORD, "--role", "supervisor"
        ),
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
        for name, port in ports.items():
            env = helpline_env(tmp_path / name, postgres_database, HELPLINE_BASE_URL=urls[name], **common)
            args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
            processes.append(start_process(f"serve-{name}", args, env, tmp_path))
        await asyncio.gather(*(wait_healthy(urls[p.name[-1]], p) for p in processes))

        async with httpx.AsyncClient(timeout=20) as client:
            login = await client.post(f"{urls['a']}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}

            def ws_url(name: str) -> str:
                return urls[name].replace("http://", "ws://") + "/api/v1/realtime"

            async with (
                connect(ws_url("b"), additional_headers=auth, open_timeout=20) as on_b,
                connect(ws_url("a"), additional_headers=auth, open_timeout=20) as on_a,
            ):
                assert (await next_frame(on_b))["type"] == "hello"
                assert (await next_frame(on_a))["type"] == "hello"
                body, headers = signed_inbound(
                    secret, {"contact": {"id": "c-9", "name": "Bea"}, "message": {"id": "m-9", "text": "via A"}}
                )
                response = await client.post(
                    f"{urls['a']}/api/v1/channels/{channel_id}/inbound", content=body, headers=headers
                )
                assert response.status_code == 200, response.text

                def created(f: dict[str, Any]) -> bool:
                    return bool(f["type"] == "message.created")

                frame = await next_frame(on_b, created, timeout=20)
                assert frame["data"]["text"] == "via A"
                assert frame["data"]["direction"] == "inbound"
                # One id sequence for the installation: both processes relay the same event under the same id.
                assert (await next_frame(on_a, created, timeout=20))["id"] == frame["id"]
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
