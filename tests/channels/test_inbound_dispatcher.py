"""The API channel's inbound served ahead of the middleware (`channels/inbound_asgi.py`): the same contract as
the FastAPI route, with the channel and its secret cached per process and checked by the INSERT itself."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, update

from helpline.channels.models import Channel
from helpline.channels.signing_cache import SigningCache
from helpline.conversations.raw_inbound import RAW_TOPIC
from helpline.platform.clock import utcnow
from helpline.platform.crypto import sign_header
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.conftest import World, drain, make_settings
from tests.support import signed_inbound

MAX_BYTES = 8192
ROUTE = "/api/v1/channels/{channel_id}/inbound"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url, max_request_bytes=MAX_BYTES, inbound_channel_limit="5/minute")


def _message(message_id: str, text: str = "hello") -> dict[str, Any]:
    return {"contact": {"id": "c-1", "name": "Ana"}, "message": {"id": message_id, "text": text}}


async def _post(
    client: httpx.AsyncClient, channel_id: int, secret: str, message_id: str = "m-1", **extra: str
) -> httpx.Response:
    body, headers = signed_inbound(secret, _message(message_id), wait=False)
    return await client.post(f"/api/v1/channels/{channel_id}/inbound", content=body, headers={**headers, **extra})


async def _raw_rows(runtime: Runtime) -> list[OutboxRow]:
    async with runtime.db.reads() as session:
        return list((await session.execute(select(OutboxRow).where(OutboxRow.topic == RAW_TOPIC))).scalars())


def _cache(client: httpx.AsyncClient) -> SigningCache:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    cache: SigningCache = transport.app.state.signing_cache  # type: ignore[attr-defined]
    return cache


def _requests(runtime: Runtime, status: int) -> float:
    value = runtime.metrics.registry.get_sample_value(
        "helpline_http_requests_total", {"method": "POST", "route": ROUTE, "status": str(status)}
    )
    return value or 0.0


async def test_accepts_with_one_statement_and_the_cached_channel(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    first = await _post(client, world.channel_id, world.channel_secret, "m-1")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted" and isinstance(first.json()["inbound_event_id"], int)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        loads = _cache(client).loads
        second = await _post(client, world.channel_id, world.channel_secret, "m-2")
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", seen)
    assert second.status_code == 200, second.text
    assert _cache(client).loads == loads  # no SELECT of the channel, no secret decrypted
    if runtime.db.is_postgres:
        assert statements == []  # the INSERT went through the driver's pool, prepared
    else:
        assert statements == ["BEGIN", "INSERT"]
    assert len(await _raw_rows(runtime)) == 2
    await drain(runtime)
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()
    assert listing["items"][0]["last_message"]["preview"] == "hello"


async def test_same_body_twice_is_logged_once(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    first = await _post(client, world.channel_id, world.channel_secret, "dup")
    second = await _post(client, world.channel_id, world.channel_secret, "dup")
    assert first.json()["inbound_event_id"] is not None
    assert second.status_code == 200
    assert second.json() == {
        "status": "accepted",
        "inbound_event_id": first.json()["inbound_event_id"],
        "duplicate": True,
    }
    assert len(await _raw_rows(runtime)) == 1


async def test_answers_carry_the_security_headers_and_are_counted_in_metrics(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    ok_before, refused_before = _requests(runtime, 200), _requests(runtime, 401)
    accepted = await _post(client, world.channel_id, world.channel_secret)
    refused = await _post(client, world.channel_id, "not-the-secret-at-all-123456", "m-2")
    for response in (accepted, refused):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["content-type"] == "application/json"
    assert (_requests(runtime, 200), _requests(runtime, 401)) == (ok_before + 1, refused_before + 1)


async def test_bad_signature_unknown_and_malformed(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    bad = await _post(client, world.channel_id, "not-the-secret-at-all-123456")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "bad_signature"
    unknown = await _post(client, 987654, world.channel_secret)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    body = b'{"contact": {"id": "c-1"}}'
    _, headers = signed_inbound(world.channel_secret, {}, wait=False)
    headers["X-Helpline-Signature"] = sign_header(world.channel_secret, body)
    malformed = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=body, headers=headers)
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "bad_payload"
    assert await _raw_rows(runtime) == []


async def test_other_methods_and_shapes_go_to_the_app(client: httpx.AsyncClient, world: World) -> None:
    wrong_method = await client.get(f"/api/v1/channels/{world.channel_id}/inbound")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
    not_a_number = await _post(client, 0, world.channel_secret)
    assert not_a_number.status_code == 404
    body, headers = signed_inbound(world.channel_secret, _message("m-q"), wait=False)
    with_query = await client.post(f"/api/v1/channels/{world.channel_id}/inbound?x=1", content=body, headers=headers)
    assert with_query.status_code == 422  # the app's unknown-query rule, as before
    # The FastAPI route still serves `Prefer: return=representation`, with the cache.
    body, headers = signed_inbound(world.channel_secret, _message("m-r"))
    stored = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=body, headers=headers)
    assert stored.status_code == 200 and len(stored.json()["message_ids"]) == 1
    assert stored.headers["preference-applied"] == "return=representation"


async def test_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    big = _message("m-big", text="x" * (MAX_BYTES + 10))
    body, headers = signed_inbound(world.channel_secret, big, wait=False)
    declared = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=body, headers=headers)
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    streamed = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=chunks(), headers=headers)
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
    assert streamed.headers["x-content-type-options"] == "nosniff"
    assert await _raw_rows(runtime) == []


async def test_disabled_channel_is_refused_and_enabled_again_at_once(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    assert (await _post(client, world.channel_id, world.channel_secret, "m-1")).status_code == 200  # cached
    patch = await client.patch(
        f"/api/v1/channels/{world.channel_id}", json={"status": "disabled"}, headers=world.admin.headers
    )
    assert patch.status_code == 200, patch.text
    refused = await _post(client, world.channel_id, world.channel_secret, "m-2")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "channel_disabled"
    await client.patch(f"/api/v1/channels/{world.channel_id}", json={"status": "active"}, headers=world.admin.headers)
    assert (await _post(client, world.channel_id, world.channel_secret, "m-3")).status_code == 200
    assert len(await _raw_rows(runtime)) == 2


async def test_rotated_secret_stops_validating_old_signatures(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    assert (await _post(client, world.channel_id, world.channel_secret, "m-1")).status_code == 200  # cached
    rotated = await client.post(f"/api/v1/channels/{world.channel_id}/rotate-secret", headers=world.admin.headers)
    new_secret = rotated.json()["secrets"]["secret"]
    old = await _post(client, world.channel_id, world.channel_secret, "m-2")
    assert old.status_code == 401 and old.json()["error"]["code"] == "bad_signature"
    assert (await _post(client, world.channel_id, new_secret, "m-3")).status_code == 200
    assert len(await _raw_rows(runtime)) == 2


async def test_a_change_made_by_another_process_is_seen_by_the_insert(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    """Another API process disables or deletes the channel: this process's cache knows nothing of it, the
    guarded INSERT does."""
    assert (await _post(client, world.channel_id, world.channel_secret, "m-1")).status_code == 200  # cached
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Channel).where(Channel.id == world.channel_id).values(status="disabled", updated_at=utcnow())
        )
    refused = await _post(client, world.channel_id, world.channel_secret, "m-2")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "channel_disabled"
    deleted = await client.delete(f"/api/v1/channels/{world.channel_id}", headers=world.admin.headers)
    assert deleted.status_code == 204
    gone = await _post(client, world.channel_id, world.channel_secret, "m-3")
    assert gone.status_code == 404


async def test_rate_limit_answers_429_with_retry_after(client: httpx.AsyncClient, world: World) -> None:
    answers = [(await _post(client, world.channel_id, world.channel_secret, f"m-{i}")) for i in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json()["error"]["code"] == "too_many_requests"
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[-1].headers["x-content-type-options"] == "nosniff"
    # Strangers' bad signatures use none of the channel's allowance (and the rate limit never answers them).
    stranger = await _post(client, world.channel_id, "not-the-secret-at-all-123456", "m-x")
    assert stranger.status_code == 401


def test_json_rendering_matches_the_app() -> None:
    from starlette.responses import JSONResponse

    from helpline.channels.inbound_asgi import _json

    content = {"status": "accepted", "inbound_event_id": 7, "text": "olá"}
    assert _json(content) == JSONResponse(content).body
    assert json.loads(_json(content)) == content


async def test_database_unreachable_answers_503_with_retry_after(
    client: httpx.AsyncClient, world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await _post(client, world.channel_id, world.channel_secret, "m-1")).status_code == 200  # cached
    if runtime.db.is_postgres:

        async def refused() -> Any:
            raise ConnectionRefusedError("connection refused")

        monkeypatch.setattr(runtime.db, "driver_pool", refused)
    else:
        from sqlalchemy.exc import OperationalError

        async def locked(*_: Any, **__: Any) -> Any:
            raise OperationalError("INSERT", {}, Exception("unable to open database file"))

        monkeypatch.setattr("sqlalchemy.ext.asyncio.AsyncSession.execute", locked)
    answer = await _post(client, world.channel_id, world.channel_secret, "m-2")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["x-content-type-options"] == "nosniff"
