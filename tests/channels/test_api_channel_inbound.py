"""The generic API channel inbound: signatures, deduplication, validation."""

from __future__ import annotations

import httpx

from helpline.runtime import Runtime
from tests.conftest import World, drain
from tests.support import post_inbound


async def test_signed_message_creates_a_conversation(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    response = await post_inbound(client, world.channel_id, world.channel_secret, text="Olá, preciso de ajuda")
    assert response.status_code == 200, response.text
    await drain(runtime)
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()
    assert [c["last_message"]["preview"] for c in listing["items"]] == ["Olá, preciso de ajuda"]


async def test_same_message_id_twice_is_stored_once(client: httpx.AsyncClient, world: World) -> None:
    first = await post_inbound(client, world.channel_id, world.channel_secret, message_id="dup")
    second = await post_inbound(client, world.channel_id, world.channel_secret, message_id="dup")
    assert first.json()["message_ids"] == second.json()["message_ids"]
    assert second.json()["duplicates"] == 1
    conversation_id = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"][0]["id"]
    messages = (
        await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world.admin.headers)
    ).json()
    assert len(messages["items"]) == 1


async def test_bad_signature_is_refused_and_nothing_is_stored(client: httpx.AsyncClient, world: World) -> None:
    response = await post_inbound(client, world.channel_id, "not-the-secret-at-all-123456")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"] == []


async def test_a_timestamp_far_from_now_is_refused_with_a_clear_error(client: httpx.AsyncClient, world: World) -> None:
    """A1: year 1 or older than 7 days: 422 naming the field, nothing stored (docs/channels/api.md)."""
    from datetime import timedelta

    from helpline.platform.clock import utcnow

    now = utcnow()
    for n, stamp in enumerate(
        [
            "0001-01-01T00:00:00Z",
            (now - timedelta(days=8)).isoformat(),
        ]
    ):
        response = await post_inbound(
            client, world.channel_id, world.channel_secret, message_id=f"far-{n}", timestamp=stamp
        )
        assert response.status_code == 422, (stamp, response.text)
        error = response.json()["error"]
        assert error["code"] == "bad_payload" and "timestamp" in error["message"], error
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()["items"]
    assert listing == []


async def test_a_timestamp_within_the_window_is_kept_and_a_naive_one_is_utc(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    from datetime import UTC, datetime, timedelta

    from helpline.platform.clock import utcnow

    three_days_ago = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    naive = three_days_ago.replace(tzinfo=None).isoformat()
    for message_id, stamp in (("aware", three_days_ago.isoformat()), ("naive", naive)):
        response = await post_inbound(
            client, world.channel_id, world.channel_secret, message_id=message_id, timestamp=stamp
        )
        assert response.status_code == 200, response.text
    await drain(runtime)
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()["items"]
    page = (await client.get(f"/api/v1/conversations/{listing[0]['id']}/messages", headers=world.agent.headers)).json()
    times = {m["provider_message_id"]: m["provider_timestamp"] for m in page["items"]}
    parsed = {k: datetime.fromisoformat(v) for k, v in times.items()}
    assert {k: v if v.tzinfo else v.replace(tzinfo=UTC) for k, v in parsed.items()} == {
        "aware": three_days_ago,
        "naive": three_days_ago,
    }


async def test_a_timestamp_ahead_of_our_clock_files_the_message_at_its_receive_time_and_keeps_the_value(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    """A1: a skewed client clock (next year, the year 2999) is not a reason to refuse the customer's message: it is
    filed at the time received, the value kept (docs/channels/api.md)."""
    from datetime import UTC, datetime, timedelta

    from helpline.platform.clock import utcnow

    before = utcnow() - timedelta(seconds=1)
    next_year = (utcnow() + timedelta(days=365)).replace(microsecond=0)
    for message_id, stamp in (("next-year", next_year.isoformat()), ("y2999", "2999-01-01T00:00:00Z")):
        response = await post_inbound(
            client, world.channel_id, world.channel_secret, message_id=message_id, timestamp=stamp
        )
        assert response.status_code == 200, response.text
    await drain(runtime)
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()["items"]
    page = (await client.get(f"/api/v1/conversations/{listing[0]['id']}/messages", headers=world.agent.headers)).json()
    by_id = {m["provider_message_id"]: m for m in page["items"]}
    for message in by_id.values():
        filed = datetime.fromisoformat(message["provider_timestamp"])
        assert before <= (filed if filed.tzinfo else filed.replace(tzinfo=UTC)) <= utcnow()
    kept = {k: datetime.fromisoformat(m["content"]["implausible_provider_timestamp"]) for k, m in by_id.items()}
    assert kept == {"next-year": next_year, "y2999": datetime(2999, 1, 1, tzinfo=UTC)}


async def test_a_body_not_declared_as_json_is_refused_with_415_on_both_paths(
    client: httpx.AsyncClient, world: World
) -> None:
    """A4: `text/plain` (or no type, or another charset) → 415, nothing stored — on the raw ASGI fast path and
    on the FastAPI route (`Prefer: return=representation`) alike; `application/json` with or without
    `charset=utf-8` is accepted."""
    from tests.support import signed_inbound

    n = 0
    for prefer in (None, "return=representation"):
        for declared in (
            "text/plain",
            "text/plain; charset=utf-8",
            None,
            "application/json; charset=latin-1",
            "application/x-www-form-urlencoded",
        ):
            n += 1
            body, headers = signed_inbound(
                world.channel_secret,
                {"contact": {"id": "c-1"}, "message": {"id": f"typed-{n}", "text": "hi"}},
                wait=prefer is not None,
            )
            headers.pop("Content-Type")
            if declared is not None:
                headers["Content-Type"] = declared
            response = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=body, headers=headers)
            assert response.status_code == 415, (prefer, declared, response.text)
            error = response.json()["error"]
            assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()["items"]
    assert listing == []
    for declared in ("application/json", "Application/JSON; charset=UTF-8", 'application/json;charset="utf-8"'):
        n += 1
        body, headers = signed_inbound(
            world.channel_secret, {"contact": {"id": "c-1"}, "message": {"id": f"typed-{n}", "text": "hi"}}
        )
        headers["Content-Type"] = declared
        response = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=body, headers=headers)
        assert response.status_code == 200, (declared, response.text)


async def test_the_openapi_document_lists_the_415_answer(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    answers = document["paths"]["/api/v1/channels/{channel_id}/inbound"]["post"]["responses"]
    assert "415" in answers and "application/json" in answers["415"]["description"]
