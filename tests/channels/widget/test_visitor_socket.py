"""The visitor's websocket on a real server: live replies, escalation, an operator joining, read both ways."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from tests.channels.widget.support import SHOP, Visitor, make_widget, say, start
from tests.conftest import World, make_world
from tests.e2e.conftest import LiveApp, eventually, next_frame, serve_app


@pytest.fixture
async def live(tmp_path: Path, db_url: str) -> AsyncIterator[LiveApp]:
    async with serve_app(tmp_path, db_url) as app:
        yield app


@pytest.fixture
async def world(live: LiveApp) -> World:
    return await make_world(live.runtime, live.client)


def socket_url(live: LiveApp, widget_id: int) -> str:
    return live.base_url.replace("http://", "ws://") + f"/api/v1/widget/{widget_id}/socket"


async def open_socket(live: LiveApp, visitor: Visitor, origin: str = SHOP) -> ClientConnection:
    ws = await connect(socket_url(live, visitor.channel_id), origin=origin, open_timeout=10)  # type: ignore[arg-type]
    await ws.send(json.dumps({"type": "auth", "token": visitor.token}))
    assert (await next_frame(ws))["type"] == "hello"
    return ws


async def close_code(ws: ClientConnection) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def message_with(text: str) -> Any:
    return lambda f: f["type"] == "message" and f["message"]["text"] == text


async def test_replies_escalation_join_and_read_arrive_live(live: LiveApp, world: World) -> None:
    widget = await make_widget(live.runtime, [world.agent.id], bot_enabled=True)
    visitor = await start(live.client, widget.id, name="Ana")
    ws = await open_socket(live, visitor)
    try:
        await say(live.client, visitor, "I want to talk to a person please", "p1")
        own = await next_frame(ws, message_with("I want to talk to a person please"))
        assert own["message"]["from"] == "visitor"
        assert (await next_frame(ws, lambda f: f["type"] == "escalation"))["conversation_id"] > 0
        notice = await next_frame(ws, lambda f: f["type"] == "message" and f["message"]["from"] == "system")
        assert notice["message"]["text"]
        conversation_id = own["message"]["conversation_id"]

        assigned = await live.client.post(
            f"/api/v1/conversations/{conversation_id}/assign",
            json={"operator_id": world.agent.id},
            headers=world.agent.headers,
        )
        assert assigned.status_code == 200, assigned.text
        joined = await next_frame(ws, lambda f: f["type"] == "joined")
        assert joined["name"] == "Agent"

        read = await live.client.post(f"/api/v1/conversations/{conversation_id}/read", headers=world.agent.headers)
        assert read.status_code == 200
        await next_frame(ws, lambda f: f["type"] == "read")

        # The operator types: the visitor sees it; someone without access to the channel gets 404.
        typing = await live.client.post(f"/api/v1/conversations/{conversation_id}/typing", headers=world.agent.headers)
        assert typing.status_code == 204
        await next_frame(ws, lambda f: f["type"] == "typing")
        outsider = await live.client.post(
            f"/api/v1/conversations/{conversation_id}/typing", headers=world.outsider.headers
        )
        assert outsider.status_code == 404

        reply = await live.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "Hi Ana, Bea here."},
            headers=world.agent.headers,
        )
        assert reply.status_code == 201
        live_reply = await next_frame(ws, message_with("Hi Ana, Bea here."))
        assert live_reply["message"]["from"] == "operator" and live_reply["message"]["state"] == "sent"

        # The visitor read it: the operator sees "read".
        await ws.send(json.dumps({"type": "read", "message_id": live_reply["message"]["id"]}))

        async def marked_read() -> bool:
            response = await live.client.get(
                f"/api/v1/conversations/{conversation_id}/messages", headers=world.agent.headers
            )
            states = {m["id"]: m["delivery_state"] for m in response.json()["items"]}
            return states[live_reply["message"]["id"]] == "read"

        await eventually(marked_read)
    finally:
        await ws.close()


async def test_socket_refuses_foreign_origins_and_bad_tokens(live: LiveApp, world: World) -> None:
    widget = await make_widget(live.runtime, [world.agent.id])
    visitor = await start(live.client, widget.id)
    foreign = await connect(socket_url(live, widget.id), origin="https://evil.example", open_timeout=10)  # type: ignore[arg-type]
    assert await close_code(foreign) == 4403
    bad = await connect(socket_url(live, widget.id), origin=SHOP, open_timeout=10)  # type: ignore[arg-type]
    await bad.send(json.dumps({"type": "auth", "token": visitor.token[:-2] + "zz"}))
    assert await close_code(bad) == 4404


async def test_a_socket_never_gets_another_visitors_frames(live: LiveApp, world: World) -> None:
    widget = await make_widget(live.runtime, [world.agent.id])
    alice = await start(live.client, widget.id)
    bob = await start(live.client, widget.id)
    bob_ws = await open_socket(live, bob)
    try:
        await say(live.client, alice, "alice's private words", "a1")
        await say(live.client, bob, "bob's words", "b1")
        frame = await next_frame(bob_ws, lambda f: f["type"] == "message")
        assert frame["message"]["text"] == "bob's words"
    finally:
        await bob_ws.close()


async def test_the_visitors_typing_reaches_the_channels_operators(live: LiveApp, world: World) -> None:
    widget = await make_widget(live.runtime, [world.agent.id])
    visitor = await start(live.client, widget.id)
    ws = await open_socket(live, visitor)
    operator = await connect(live.ws_url, additional_headers=world.agent.headers, open_timeout=10)
    outsider = await connect(live.ws_url, additional_headers=world.outsider.headers, open_timeout=10)
    try:
        assert (await next_frame(operator))["type"] == "hello"
        assert (await next_frame(outsider))["type"] == "hello"
        await say(live.client, visitor, "hello?", "h1")
        own = await next_frame(ws, message_with("hello?"))
        await ws.send(json.dumps({"type": "typing"}))
        frame = await next_frame(operator, lambda f: f["type"] == "conversation.typing")
        assert frame["data"] == {"conversation_id": own["message"]["conversation_id"], "who": "contact"}
        # An operator outside the widget's channel gets no frame of it (the hub obeys the frame's audience).
        with pytest.raises(TimeoutError):
            await next_frame(outsider, timeout=1.0)
    finally:
        await outsider.close()
        await operator.close()
        await ws.close()
