"""Channel management over the API and the CLI: secrets shown once, sealed at rest, SSRF-checked callbacks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from helpline.channels.models import Channel
from helpline.cli import main as cli
from helpline.runtime import Runtime
from tests.conftest import SECRET, World, make_settings, make_world
from tests.platform.fake_peer import api_client, running_app, runtime_of
from tests.support import post_inbound

PUBLIC_CALLBACK = "http://93.184.216.34/helpline/callback"
UNSAFE_CALLBACKS = [
    "http://127.0.0.1/x",
    "http://localhost/x",
    "http://10.0.0.5/x",
    "http://169.254.169.254/latest",
    "http://[::1]/x",
]


async def _raw_credentials(runtime: Runtime, channel_id: int) -> str:
    async with runtime.db.sessions() as session:
        value = (
            await session.execute(text("SELECT credentials FROM channels WHERE id = :id"), {"id": channel_id})
        ).scalar_one()
    assert isinstance(value, str)
    return value


def _assert_no_secret(response: httpx.Response, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in response.text
    assert "credentials" not in response.text


async def _create(client: httpx.AsyncClient, world: World, **body: Any) -> httpx.Response:
    payload: dict[str, Any] = {"kind": "api", "name": "Shop backend", "settings": {}, **body}
    return await client.post("/api/v1/channels", json=payload, headers=world.admin.headers)


async def test_admin_creates_an_api_channel_and_sees_the_secret_once(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    response = await _create(
        client, world, settings={"callback_url": PUBLIC_CALLBACK}, member_ids=[world.agent.id, world.outsider.id]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    secret = body["secrets"]["secret"]
    assert isinstance(secret, str) and len(secret) >= 32
    assert body["kind"] == "api"
    assert body["name"] == "Shop backend"
    assert body["settings"]["callback_url"] == PUBLIC_CALLBACK
    assert body["member_ids"] == sorted([world.agent.id, world.outsider.id])
    assert body["inbound_url"] == f"http://testserver/api/v1/channels/{body['id']}/inbound"
    assert "credentials" not in body

    one = await client.get(f"/api/v1/channels/{body['id']}", headers=world.admin.headers)
    assert one.status_code == 200
    assert "secrets" not in one.json()
    _assert_no_secret(one, secret)
    listing = await client.get("/api/v1/channels", headers=world.admin.headers)
    _assert_no_secret(listing, secret, world.channel_secret)

    # Sealed at rest: the column holds ciphertext, not the secret, and it opens with the runtime's box.
    raw = await _raw_credentials(runtime, body["id"])
    assert secret not in raw
    assert runtime.box.open(raw) == {"secret": secret}

    # The secret works for signed inbound messages.
    ok = await post_inbound(client, body["id"], secret, message_id="first")
    assert ok.status_code == 200, ok.text


async def test_secret_given_by_the_admin_is_not_echoed_back(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    chosen = "my-own-secret-0123456789-abcdef"
    response = await _create(client, world, credentials={"secret": chosen})
    assert response.status_code == 201, response.text
    assert response.json()["secrets"] == {}
    _assert_no_secret(response, chosen)
    assert chosen not in await _raw_credentials(runtime, response.json()["id"])
    assert (await post_inbound(client, response.json()["id"], chosen)).status_code == 200


async def test_rotate_secret_issues_a_new_one_and_the_old_stops_working(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    old = world.channel_secret
    assert (await post_inbound(client, world.channel_id, old, message_id="before")).status_code == 200

    rotated = await client.post(f"/api/v1/channels/{world.channel_id}/rotate-secret", headers=world.admin.headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secrets"]["secret"]
    assert new != old

    refused = await post_inbound(client, world.channel_id, old, message_id="after-old")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "bad_signature"
    accepted = await post_inbound(client, world.channel_id, new, message_id="after-new")
    assert accepted.status_code == 200, accepted.text

    raw = await _raw_credentials(runtime, world.channel_id)
    assert new not in raw and old not in raw
    got = await client.get(f"/api/v1/channels/{world.channel_id}", headers=world.admin.headers)
    _assert_no_secret(got, new, old)


@pytest.mark.parametrize("persona", ["supervisor", "agent", "outsider"])
async def test_non_admins_cannot_manage_channels(client: httpx.AsyncClient, world: World, persona: str) -> None:
    headers = getattr(world, persona).headers
    channel = f"/api/v1/channels/{world.channel_id}"
    attempts = [
        await client.post("/api/v1/channels", json={"kind": "api", "name": "X"}, headers=headers),
        await client.patch(channel, json={"name": "Renamed"}, headers=headers),
        await client.post(f"{channel}/rotate-secret", headers=headers),
        await client.delete(channel, headers=headers),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403]
    # Nothing changed: the old secret still works, the name is the same.
    assert (await post_inbound(client, world.channel_id, world.channel_secret)).status_code == 200
    same = await client.get(channel, headers=world.admin.headers)
    assert same.json()["name"] == "Test API"


async def test_unauthenticated_requests_are_refused(client: httpx.AsyncClient, world: World) -> None:
    client.cookies.clear()  # logging the personas in left a session cookie in this client
    assert (await client.get("/api/v1/channels")).status_code == 401
    assert (await client.post("/api/v1/channels", json={"kind": "api", "name": "X"})).status_code == 401


async def test_agent_lists_only_member_channels(client: httpx.AsyncClient, world: World) -> None:
    other = await _create(client, world, name="Other", member_ids=[world.outsider.id])
    assert other.status_code == 201
    other_id = other.json()["id"]

    agent_list = (await client.get("/api/v1/channels", headers=world.agent.headers)).json()
    assert [c["id"] for c in agent_list] == [world.channel_id]
    outsider_list = (await client.get("/api/v1/channels", headers=world.outsider.headers)).json()
    assert [c["id"] for c in outsider_list] == [other_id]
    for persona in (world.admin, world.supervisor):
        everything = (await client.get("/api/v1/channels", headers=persona.headers)).json()
        assert [c["id"] for c in everything] == [world.channel_id, other_id]

    assert (await client.get(f"/api/v1/channels/{other_id}", headers=world.agent.headers)).status_code == 404
    assert (await client.get(f"/api/v1/channels/{world.channel_id}", headers=world.agent.headers)).status_code == 200


async def test_admin_updates_the_callback_url(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    before = await _raw_credentials(runtime, world.channel_id)
    response = await client.patch(
        f"/api/v1/channels/{world.channel_id}",
        json={"settings": {"callback_url": PUBLIC_CALLBACK, "bot_enabled": False}},
        headers=world.admin.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"] == {"callback_url": PUBLIC_CALLBACK, "bot_enabled": False}
    assert response.json()["secrets"] == {}
    _assert_no_secret(response, world.channel_secret)
    got = (await client.get(f"/api/v1/channels/{world.channel_id}", headers=world.admin.headers)).json()
    assert got["settings"]["callback_url"] == PUBLIC_CALLBACK
    # Changing settings keeps the signing secret.
    assert runtime.box.open(await _raw_credentials(runtime, world.channel_id)) == runtime.box.open(before)
    assert (await post_inbound(client, world.channel_id, world.channel_secret)).status_code == 200


async def test_invalid_callback_url_is_refused(client: httpx.AsyncClient, world: World) -> None:
    response = await client.patch(
        f"/api/v1/channels/{world.channel_id}",
        json={"settings": {"callback_url": "not a url"}},
        headers=world.admin.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_channel_config"


async def test_unknown_kind_is_refused(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    response = await _create(client, world, kind="carrier-pigeon")
    assert response.status_code == 422
    assert "carrier-pigeon" in response.json()["error"]["message"]
    async with runtime.db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Channel))).scalar_one() == 1


@pytest.fixture
async def strict(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient, World]]:
    """An app that refuses private callback targets (the production default)."""
    async with (
        running_app(make_settings(tmp_path, db_url, allow_private_targets=False)) as application,
        api_client(application) as client,
    ):
        runtime = runtime_of(application)
        yield runtime, client, await make_world(runtime, client)


@pytest.mark.parametrize("url", UNSAFE_CALLBACKS)
async def test_private_callback_urls_are_refused(strict: tuple[Runtime, httpx.AsyncClient, World], url: str) -> None:
    runtime, client, world = strict
    created = await _create(client, world, settings={"callback_url": url})
    assert created.status_code == 422, created.text
    assert created.json()["error"]["code"] == "unsafe_target"

    before = (await client.get(f"/api/v1/channels/{world.channel_id}", headers=world.admin.headers)).json()
    raw_before = await _raw_credentials(runtime, world.channel_id)
    updated = await client.patch(
        f"/api/v1/channels/{world.channel_id}",
        json={"name": "Changed", "settings": {"callback_url": url}},
        headers=world.admin.headers,
    )
    assert updated.status_code == 422, updated.text
    assert updated.json()["error"]["code"] == "unsafe_target"

    after = (await client.get(f"/api/v1/channels/{world.channel_id}", headers=world.admin.headers)).json()
    assert after == before
    assert await _raw_credentials(runtime, world.channel_id) == raw_before
    async with runtime.db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Channel))).scalar_one() == 1


async def test_public_callback_url_is_accepted_when_private_targets_are_refused(
    strict: tuple[Runtime, httpx.AsyncClient, World],
) -> None:
    _, client, world = strict
    created = await _create(client, world, settings={"callback_url": PUBLIC_CALLBACK})
    assert created.status_code == 201, created.text


# ---------------------------------------------------------------- the CLI


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "HELPLINE_DATA_DIR": str(tmp_path / "data"),
        "HELPLINE_SECRET_KEY": SECRET,
    }


async def _cli_channels(tmp_path: Path) -> list[tuple[Any, ...]]:
    from helpline.platform.db import Database

    database = Database(_cli_env(tmp_path)["HELPLINE_DATABASE_URL"])
    try:
        async with database.sessions() as session:
            rows = await session.execute(text("SELECT id, kind, name, settings, credentials FROM channels"))
            return [tuple(r) for r in rows]
    finally:
        await database.dispose()


def test_cli_adds_an_api_channel(tmp_path: Path) -> None:
    import asyncio

    result = CliRunner().invoke(
        cli,
        ["channels", "add", "api", "--name", "X", "--setting", f"callback_url={PUBLIC_CALLBACK}"],
        env=_cli_env(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "channel 1 created (api)" in result.output
    secret_line = next(line for line in result.output.splitlines() if "secret:" in line)
    secret = secret_line.split("secret:")[1].split()[0]
    assert "shown once" in secret_line

    rows = asyncio.run(_cli_channels(tmp_path))
    assert len(rows) == 1
    channel_id, kind, name, settings, credentials = rows[0]
    assert (channel_id, kind, name) == (1, "api", "X")
    settings = json.loads(settings) if isinstance(settings, str) else settings
    assert settings["callback_url"] == PUBLIC_CALLBACK
    assert secret not in credentials
    from helpline.platform.crypto import SecretBox

    assert SecretBox(SECRET).open(credentials) == {"secret": secret}


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost/x"])
def test_cli_refuses_a_private_callback(tmp_path: Path, url: str) -> None:
    import asyncio

    result = CliRunner().invoke(
        cli, ["channels", "add", "api", "--name", "X", "--setting", f"callback_url={url}"], env=_cli_env(tmp_path)
    )
    assert result.exit_code == 1
    assert "private or internal address" in result.output
    assert asyncio.run(_cli_channels(tmp_path)) == []
