"""The whole loop over real HTTP and websockets: inbound → inbox → realtime → reply → signed callback → sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from helpline.auth.actions import create_operator
from helpline.auth.models import Role
from helpline.auth.schemas import OperatorCreate
from tests.conftest import PASSWORD, World, login, make_world
from tests.e2e.conftest import FRAME_TIMEOUT, CallbackServer, LiveApp, next_frame, serve_app
from tests.support import post_inbound


@pytest.fixture
async def live(tmp_path: Path, db_url: str) -> AsyncIterator[LiveApp]:
    async with serve_app(tmp_path, db_url) as app:
        yield app


@pytest.fixture
async def world(live: LiveApp, callback: CallbackServer) -> World:
    world = await make_world(live.runtime, live.client, callback_url=callback.url)
    callback.secret = world.channel_secret
    return world


@pytest.fixture
async def admin_token(live: LiveApp) -> str:
    """One admin only (password hashing makes the full cast of personas slow)."""
    async with live.runtime.db.transaction() as session:
        await create_operator(
            session,
            OperatorCreate(email="solo@example.com", name="Solo", password=PASSWORD, role=Role.admin),
            actor_id=None,
        )
    return await login(live.client, "solo@example.com")


async def open_socket(live: LiveApp, *, token: str | None = None, header: str | None = None, **query: Any) -> Any:
    """A socket authenticated by `Authorization: Bearer` (`token` and `header` are the same: tokens never go in
    the URL)."""
    params = urlencode({k: v for k, v in query.items() if v is not None})
    bearer = header or token
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
    ws = await connect(
        f"{live.ws_url}?{params}" if params else live.ws_url, additional_headers=headers, open_timeout=10
    )
    hello = await next_frame(ws)
    assert hello["type"] == "hello"
    return ws


async def no_frame_before_marker(ws: ClientConnection, live: LiveApp, operator_id: int) -> None:
    """Prove the socket got nothing: push a frame meant only for it through its hub; it must come first."""
    live.runtime.hub.on_frame(
        {"id": live.runtime.hub.last_event_id + 1, "type": "marker", "audience": {"operator_id": operator_id}}
    )
    frame = await next_frame(ws)
    assert frame["type"] == "marker", frame


async def test_inbound_to_signed_callback_and_back(live: LiveApp, world: World, callback: CallbackServer) -> None:
    agent_ws = await open_socket(live, token=world.agent.token)
    supervisor_ws = await open_socket(live, header=world.supervisor.token)
    outsider_ws = await open_socket(live, token=world.outsider.token)
    try:
        # 1. A customer writes through the API channel (signed).
        response = await post_inbound(
            live.client, world.channel_id, world.channel_secret, text="hello, my order is late", message_id="m-1"
        )
        assert response.status_code == 200, response.text

        # 2. The inbox lists it, and the filters narrow it.
        async def listed(**params: Any) -> list[dict[str, Any]]:
            r = await live.client.get("/api/v1/conversations", params=params, headers=world.agent.headers)
            assert r.status_code == 200, r.text
            items: list[dict[str, Any]] = r.json()["items"]
            return items

        (conversation,) = await listed(channel_kind="api", status="open", q="order")
        conversation_id = conversation["id"]
        assert await listed(channel_kind="whatsapp") == []
        assert await listed(status="resolved") == []
        assert await listed(q="nothing-like-this") == []
        assert [c["id"] for c in await listed(channel_kind="api")] == [conversation_id]

        # 3. The agent's socket and the supervisor's (both authenticated with Authorization) see it.
        def inbound_created(f: dict[str, Any]) -> bool:
            return bool(f["type"] == "message.created" and f["data"]["direction"] == "inbound")

        created = await next_frame(agent_ws, inbound_created)
        assert created["conversation_id"] == conversation_id
        assert created["data"]["text"] == "hello, my order is late"
        assert "audience" not in created
        assert (await next_frame(supervisor_ws, inbound_created))["id"] == created["id"]

        # The agent drops off; it will catch up with last_event_id.
        last_seen = created["id"]
        await agent_ws.close()

        # 4. The agent replies over the REST API.
        reply = await live.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "sorry! it ships today"},
            headers=world.agent.headers,
        )
        assert reply.status_code == 201, reply.text
        message_id = reply.json()["id"]

        # 5. The callback receiver gets it, signed, with an idempotency key.
        (received,) = await callback.wait_for_requests(1)
        assert received.signature_ok
        assert received.idempotency_key
        assert received.body["message"]["id"] == message_id
        assert received.body["message"]["text"] == "sorry! it ships today"
        assert received.body["contact"]["id"] == "c-1"

        # 6. The delivery outcome reaches the supervisor's socket.
        def sent(f: dict[str, Any]) -> bool:
            data = f["data"]
            return bool(
                f["type"] == "message.updated" and data["id"] == message_id and data["delivery_state"] == "sent"
            )

        sent_frame = await next_frame(supervisor_ws, sent)
        assert sent_frame["data"]["provider_message_id"] == callback.processed[received.idempotency_key]

        # 7. The agent reconnects with last_event_id and gets exactly what it missed, in order.
        agent_ws = await open_socket(live, token=world.agent.token, last_event_id=last_seen)
        replayed: list[dict[str, Any]] = []
        while not replayed or replayed[-1]["id"] != sent_frame["id"]:
            replayed.append(await next_frame(agent_ws))
        ids = [f["id"] for f in replayed]
        assert ids == sorted(set(ids)) and ids[0] > last_seen
        assert any(f["type"] == "message.created" and f["data"]["id"] == message_id for f in replayed)

        # 8. The agent who is not a member of the channel saw none of it.
        await no_frame_before_marker(outsider_ws, live, world.outsider.id)

        stored = await live.client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world.agent.headers)
        states = {m["id"]: m["delivery_state"] for m in stored.json()["items"]}
        assert states[message_id] == "sent"
        assert len(callback.requests) == 1
    finally:
        for ws in (agent_ws, supervisor_ws, outsider_ws):
            await ws.close()


async def test_bad_token_closes_the_socket_with_4401(live: LiveApp) -> None:
    headers = {"Authorization": "Bearer not-a-real-token"}
    async with connect(live.ws_url, additional_headers=headers, open_timeout=10) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_a_valid_token_in_the_url_is_not_accepted(live: LiveApp, admin_token: str) -> None:
    """?token= would put a live session token in every access log on the way."""
    async with connect(f"{live.ws_url}?token={admin_token}", open_timeout=10) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_no_credentials_closes_the_socket_with_4401(live: LiveApp) -> None:
    async with connect(live.ws_url, open_timeout=10) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_stale_last_event_id_gets_resync(live: LiveApp, admin_token: str) -> None:
    ws = await open_socket(live, token=admin_token, last_event_id=live.runtime.hub.last_event_id + 10**9)
    try:
        assert (await next_frame(ws))["type"] == "resync"
    finally:
        await ws.close()


async def test_slow_socket_is_told_to_resync_and_closed(live: LiveApp, admin_token: str) -> None:
    ws = await open_socket(live, header=admin_token)
    try:
        hub = live.runtime.hub
        # More frames at once than a socket may have queued: the relay gives up on this client.
        start = hub.last_event_id + 1
        for offset in range(2100):
            hub.on_frame({"id": start + offset, "type": "flood", "audience": {"channel_id": 1}})
        frames = []
        while True:
            try:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)))
            except websockets.ConnectionClosed:
                break
        assert frames[-1]["type"] == "resync"
        assert all(f["type"] == "flood" for f in frames[:-1])
        assert len(frames) - 1 < 2100
    finally:
        await ws.close()
