"""Outgoing webhooks: registration, fan-out to subscribers, signed deliveries, retries and the delivery log."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from helpline.platform.crypto import verify_sha256_signature
from helpline.platform.worker import Job
from helpline.runtime import Runtime
from helpline.webhooks.handlers import make_fanout_handler
from helpline.webhooks.models import Webhook, WebhookDelivery
from tests.conftest import World, drain, make_settings, make_world
from tests.platform.fake_peer import Peer, api_client, running_app, runtime_of
from tests.support import post_inbound

HOOK_A = "http://93.184.216.34/hooks/a"
HOOK_B = "http://93.184.216.35/hooks/b"
HOOK_C = "http://93.184.216.36/hooks/c"


async def _register(client: httpx.AsyncClient, world: World, url: str, events: list[str]) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": events, "description": "CRM"}, headers=world.admin.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _deliveries(client: httpx.AsyncClient, world: World, webhook_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=world.admin.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def _settle(runtime: Runtime, *, rounds: int = 200) -> None:
    """Drain until no delivery is pending (waiting out the short test backoff)."""
    for _ in range(rounds):
        await drain(runtime)
        async with runtime.db.sessions() as session:
            pending = (
                await session.execute(
                    select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "pending")
                )
            ).scalar_one()
        if not pending:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("webhook deliveries never settled")


def _requests_to(peer: Peer, url: str) -> list[httpx.Request]:
    return [r for r in peer.requests if str(r.url) == url]


async def test_admin_registers_a_webhook_and_sees_the_secret_once(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    created = await _register(client, world, HOOK_A, ["message.created", "conversation.created"])
    secret = created["secret"]
    assert len(secret) >= 32
    assert created["url"] == HOOK_A
    assert created["events"] == ["conversation.created", "message.created"]
    assert created["active"] is True
    listing = await client.get("/api/v1/webhooks", headers=world.admin.headers)
    assert listing.status_code == 200
    assert [w["id"] for w in listing.json()] == [created["id"]]
    assert secret not in listing.text and "secret" not in listing.json()[0]
    async with runtime.db.sessions() as session:
        stored = await session.get(Webhook, created["id"])
        assert stored is not None
        assert secret not in stored.secret
        assert runtime.box.open(stored.secret) == {"secret": secret}


async def test_unknown_events_are_refused(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/api/v1/webhooks", json={"url": HOOK_A, "events": ["message.exploded"]}, headers=world.admin.headers
    )
    assert response.status_code == 422
    response = await client.post("/api/v1/webhooks", json={"url": HOOK_A, "events": []}, headers=world.admin.headers)
    assert response.status_code == 422


@pytest.mark.parametrize("persona", ["supervisor", "agent", "outsider"])
async def test_non_admins_cannot_touch_webhooks(client: httpx.AsyncClient, world: World, persona: str) -> None:
    hook = await _register(client, world, HOOK_A, ["*"])
    headers = getattr(world, persona).headers
    attempts = [
        await client.get("/api/v1/webhooks", headers=headers),
        await client.post("/api/v1/webhooks", json={"url": HOOK_B, "events": ["*"]}, headers=headers),
        await client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=headers),
        await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=headers),
        await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=headers),
    ]
    assert [r.status_code for r in attempts] == [403] * 5
    listing = (await client.get("/api/v1/webhooks", headers=world.admin.headers)).json()
    assert [(w["url"], w["active"]) for w in listing] == [(HOOK_A, True)]


@pytest.fixture
async def strict(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    async with (
        running_app(make_settings(tmp_path, db_url, allow_private_targets=False)) as application,
        api_client(application) as client,
    ):
        yield client, await make_world(runtime_of(application), client)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
    ],
)
async def test_private_webhook_urls_are_refused(strict: tuple[httpx.AsyncClient, World], url: str) -> None:
    client, world = strict
    response = await client.post("/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=world.admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "unsafe_target"
    public = await _register(client, world, HOOK_A, ["*"])
    changed = await client.patch(f"/api/v1/webhooks/{public['id']}", json={"url": url}, headers=world.admin.headers)
    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "unsafe_target"
    listing = (await client.get("/api/v1/webhooks", headers=world.admin.headers)).json()
    assert [w["url"] for w in listing] == [HOOK_A]


async def test_events_fan_out_only_to_subscribers_signed(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    messages = await _register(client, world, HOOK_A, ["message.created"])
    everything = await _register(client, world, HOOK_B, ["*"])
    resolved = await _register(client, world, HOOK_C, ["conversation.resolved"])
    secrets = {HOOK_A: messages["secret"], HOOK_B: everything["secret"], HOOK_C: resolved["secret"]}

    response = await post_inbound(client, world.channel_id, world.channel_secret, text="hi there", message_id="w-1")
    assert response.status_code == 200
    await _settle(runtime)

    a = _requests_to(peer, HOOK_A)
    b = _requests_to(peer, HOOK_B)
    assert [r.headers["x-helpline-event"] for r in a] == ["message.created"]
    assert sorted(r.headers["x-helpline-event"] for r in b) == ["conversation.created", "message.created"]
    assert _requests_to(peer, HOOK_C) == []

    for request in peer.requests:
        url = str(request.url)
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        assert verify_sha256_signature(secrets[url], request.content, request.headers["x-helpline-signature"])
        for other_url, other_secret in secrets.items():
            if other_url != url:
                assert not verify_sha256_signature(
                    other_secret, request.content, request.headers["x-helpline-signature"]
                )
        body = json.loads(request.content)
        assert body["event"] == request.headers["x-helpline-event"]
        assert str(body["id"]) == request.headers["x-helpline-delivery"]
        assert request.headers["idempotency-key"] == f"helpline-webhook-{body['id']}"
        assert set(body) == {"id", "created_at", "event", "source_event_id", "data"}

    (message_event,) = [json.loads(r.content) for r in a]
    assert message_event["data"]["text"] == "hi there"
    assert message_event["data"]["direction"] == "inbound"
    assert message_event["data"]["id"] == response.json()["message_ids"][0]

    (delivery,) = await _deliveries(client, world, messages["id"])
    assert (delivery["status"], delivery["attempts"], delivery["response_code"], delivery["last_error"]) == (
        "succeeded",
        1,
        200,
        None,
    )
    assert delivery["event"] == "message.created"
    assert delivery["delivered_at"] is not None
    assert len(await _deliveries(client, world, everything["id"])) == 2
    assert await _deliveries(client, world, resolved["id"]) == []


async def test_inactive_webhooks_get_nothing(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    hook = await _register(client, world, HOOK_A, ["*"])
    off = await client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=world.admin.headers)
    assert off.status_code == 200 and off.json()["active"] is False
    await post_inbound(client, world.channel_id, world.channel_secret)
    await _settle(runtime)
    assert peer.requests == []
    assert await _deliveries(client, world, hook["id"]) == []


async def test_server_errors_and_timeouts_are_retried_then_succeed(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    hook = await _register(client, world, HOOK_A, ["message.created"])
    peer.script = [httpx.Response(500, text="boom"), httpx.ReadTimeout("too slow")]
    peer.default = httpx.Response(200, text="ok")
    await post_inbound(client, world.channel_id, world.channel_secret)
    await _settle(runtime)

    assert len(peer.requests) == 3
    # Retries resend the identical signed body under the same delivery id.
    assert len({r.content for r in peer.requests}) == 1
    assert len({r.headers["x-helpline-delivery"] for r in peer.requests}) == 1
    assert len({r.headers["x-helpline-signature"] for r in peer.requests}) == 1
    (delivery,) = await _deliveries(client, world, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["response_code"], delivery["last_error"]) == (
        "succeeded",
        3,
        200,
        None,
    )


async def test_server_errors_forever_end_failed_after_max_attempts(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    hook = await _register(client, world, HOOK_A, ["message.created"])
    peer.default = httpx.Response(503, text="maintenance")
    await post_inbound(client, world.channel_id, world.channel_secret)
    await _settle(runtime)
    assert len(peer.requests) == runtime.settings.outbox_max_attempts
    (delivery,) = await _deliveries(client, world, hook["id"])
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == runtime.settings.outbox_max_attempts
    assert delivery["response_code"] == 503
    assert delivery["last_error"] == "HTTP 503: maintenance"
    assert delivery["delivered_at"] is None


async def test_timeouts_forever_end_failed_with_the_error(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    hook = await _register(client, world, HOOK_A, ["message.created"])
    peer.default = httpx.ReadTimeout("read timed out")
    await post_inbound(client, world.channel_id, world.channel_secret)
    await _settle(runtime)
    (delivery,) = await _deliveries(client, world, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("failed", 3, None)
    assert delivery["last_error"] == "ReadTimeout: read timed out"


@pytest.mark.parametrize("status", [400, 401, 404, 410])
async def test_client_errors_are_permanent(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer, status: int
) -> None:
    hook = await _register(client, world, HOOK_A, ["message.created"])
    peer.default = httpx.Response(status, text="go away")
    await post_inbound(client, world.channel_id, world.channel_secret)
    await _settle(runtime)
    assert len(peer.requests) == 1
    (delivery,) = await _deliveries(client, world, hook["id"])
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("failed", 1, status)
    assert delivery["last_error"] == f"HTTP {status}: go away"


async def test_fanout_twice_for_one_outbox_row_creates_no_duplicates(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    first = await _register(client, world, HOOK_A, ["message.created"])
    second = await _register(client, world, HOOK_B, ["*"])
    fanout = make_fanout_handler(runtime)
    job = Job(
        id=987654, payload={"event": "message.created", "data": {"id": 1, "text": "x"}}, attempt=1, last_attempt=False
    )
    await fanout(job)
    await fanout(job)  # e.g. the worker died after the fan-out committed but before the row was settled
    async with runtime.db.sessions() as session:
        rows = list((await session.execute(select(WebhookDelivery).order_by(WebhookDelivery.webhook_id))).scalars())
    assert [(r.webhook_id, r.source_event_id) for r in rows] == [(first["id"], 987654), (second["id"], 987654)]

    await _settle(runtime)
    assert sorted(str(r.url) for r in peer.requests) == [HOOK_A, HOOK_B]
    assert [d["status"] for d in await _deliveries(client, world, first["id"])] == ["succeeded"]
    assert [d["status"] for d in await _deliveries(client, world, second["id"])] == ["succeeded"]


async def test_deliveries_of_an_unknown_webhook_are_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/api/v1/webhooks/424242/deliveries", headers=world.admin.headers)
    assert response.status_code == 404
