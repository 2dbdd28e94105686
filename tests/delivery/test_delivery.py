"""Delivering replies on an API channel: the exact signed callback, retries, permanent failures, bot pause."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.bot.escalation import Trigger
from helpline.bot.handoff import escalate
from helpline.conversations.actions import BOT, send_reply
from helpline.conversations.models import Conversation
from helpline.jobs import build_worker
from helpline.platform.crypto import verify_sha256_signature
from helpline.realtime.hub import Subscriber
from helpline.runtime import Runtime
from tests.conftest import World, drain, make_world
from tests.platform.fake_peer import Peer
from tests.support import post_inbound

CALLBACK = "http://93.184.216.34/helpline/callback"


@pytest.fixture
async def cb_world(runtime: Runtime, client: httpx.AsyncClient) -> World:
    """The standard world, with a callback URL on its API channel."""
    return await make_world(runtime, client, callback_url=CALLBACK)


@pytest.fixture
def frames(runtime: Runtime) -> Subscriber:
    """Every realtime frame published from now on (an admin sees all channels)."""
    return runtime.hub.subscribe(Principal(operator_id=0, role=Role.admin, channel_ids=frozenset()), None)


def drained(subscriber: Subscriber) -> list[dict[str, Any]]:
    out = []
    while not subscriber.queue.empty():
        out.append(subscriber.queue.get_nowait())
    return out


async def _conversation(client: httpx.AsyncClient, world: World, **message: Any) -> int:
    response = await post_inbound(client, world.channel_id, world.channel_secret, contact_id="cust-42", **message)
    assert response.status_code == 200, response.text
    listing = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()
    conversation_id: int = listing["items"][0]["id"]
    return conversation_id


async def _reply(client: httpx.AsyncClient, world: World, conversation_id: int, text: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=world.agent.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["delivery_state"] == "queued"
    body: dict[str, Any] = response.json()
    return body


async def _message(client: httpx.AsyncClient, world: World, conversation_id: int, message_id: int) -> dict[str, Any]:
    page = (await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world.agent.headers)).json()
    (message,) = [m for m in page["items"] if m["id"] == message_id]
    result: dict[str, Any] = message
    return result


async def settle(
    runtime: Runtime, client: httpx.AsyncClient, world: World, conversation_id: int, message_id: int
) -> dict[str, Any]:
    """Run the worker (waiting out the short test backoff) until the message leaves `queued`."""
    for _ in range(200):
        await drain(runtime)
        message = await _message(client, world, conversation_id, message_id)
        if message["delivery_state"] != "queued":
            await drain(runtime)  # publish the frames written with the outcome
            return message
        await asyncio.sleep(0.02)
    raise AssertionError("the message never left the queued state")


def _updates(subscriber: Subscriber, message_id: int) -> list[tuple[str, str | None]]:
    return [
        (f["data"]["delivery_state"], f["data"]["error_code"])
        for f in drained(subscriber)
        if f["type"] == "message.updated" and f["data"]["id"] == message_id
    ]


async def test_operator_reply_is_delivered_signed_with_an_idempotency_key(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer, frames: Subscriber
) -> None:
    world = cb_world
    peer.default = httpx.Response(202, json={"id": "ext-981", "status": "accepted"})
    conversation_id = await _conversation(client, world, text="where is my order?", message_id="in-1")
    reply = await _reply(client, world, conversation_id, "It ships today.")
    assert peer.requests == []  # never sent inside the request

    message = await settle(runtime, client, world, conversation_id, reply["id"])

    assert message["delivery_state"] == "sent"
    assert message["provider_message_id"] == "ext-981"
    assert message["error_code"] is None and message["error_reason"] is None
    (request,) = peer.requests
    assert request.method == "POST"
    assert str(request.url) == CALLBACK
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == f"helpline-message-{reply['id']}"
    assert verify_sha256_signature(world.channel_secret, request.content, request.headers["x-helpline-signature"])
    assert not verify_sha256_signature("some-other-secret", request.content, request.headers["x-helpline-signature"])
    assert json.loads(request.content) == {
        "channel_id": world.channel_id,
        "conversation_id": conversation_id,
        "contact": {"id": "cust-42"},
        "message": {
            "id": reply["id"],
            "text": "It ships today.",
            "author": {"kind": "operator", "name": "Agent"},
            "reply_to": None,
            "attachments": [],
        },
    }
    assert ("sent", None) in _updates(frames, reply["id"])


async def test_reply_to_a_customer_message_names_its_provider_id(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    world = cb_world
    conversation_id = await _conversation(client, world, message_id="in-77")
    inbound_id = (
        await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world.agent.headers)
    ).json()["items"][0]["id"]
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "answering this", "reply_to_id": inbound_id},
        headers=world.agent.headers,
    )
    assert response.status_code == 201, response.text
    await settle(runtime, client, world, conversation_id, response.json()["id"])
    assert json.loads(peer.requests[0].content)["message"]["reply_to"] == "in-77"


async def test_reply_without_json_id_is_sent_without_provider_id(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    world = cb_world
    peer.default = httpx.Response(204)
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "ok")
    message = await settle(runtime, client, world, conversation_id, reply["id"])
    assert (message["delivery_state"], message["provider_message_id"]) == ("sent", None)


async def test_server_error_then_success_is_retried_and_sent(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer, frames: Subscriber
) -> None:
    world = cb_world
    peer.script = [httpx.Response(500, text="oops"), httpx.ReadTimeout("slow")]
    peer.default = httpx.Response(200, json={"id": "ext-2"})
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "retry me")

    message = await settle(runtime, client, world, conversation_id, reply["id"])

    assert (message["delivery_state"], message["provider_message_id"]) == ("sent", "ext-2")
    assert len(peer.requests) == 3
    # Every attempt is the same request: same body, same signature, same idempotency key.
    assert len({r.content for r in peer.requests}) == 1
    assert {r.headers["idempotency-key"] for r in peer.requests} == {f"helpline-message-{reply['id']}"}
    # Each failed attempt's reason was shown while retrying; the send clears it.
    assert _updates(frames, reply["id"]) == [("queued", "http_500"), ("queued", "timeout"), ("sent", None)]
    assert runtime.metrics.outbound_messages.labels("api", "retry")._value.get() == 2
    assert runtime.metrics.outbound_messages.labels("api", "sent")._value.get() == 1


async def test_server_error_forever_fails_after_max_attempts(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer, frames: Subscriber
) -> None:
    world = cb_world
    peer.default = httpx.Response(500, text="database is down")
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "doomed")

    message = await settle(runtime, client, world, conversation_id, reply["id"])

    assert len(peer.requests) == runtime.settings.outbox_max_attempts == 3
    assert message["delivery_state"] == "failed"
    assert message["error_code"] == "http_500"
    assert message["error_reason"] == "callback answered HTTP 500: database is down"
    assert _updates(frames, reply["id"]) == [("queued", "http_500"), ("failed", "http_500")]
    # Nothing is left behind: more rounds send nothing more.
    await asyncio.sleep(0.1)
    await drain(runtime)
    assert len(peer.requests) == 3


async def test_network_error_forever_fails_with_a_readable_reason(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    world = cb_world
    # A refused connection has its own code (connection_refused, tested below); any other failure is "network".
    peer.default = httpx.ConnectError("[Errno -2] Name or service not known")
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "doomed")
    message = await settle(runtime, client, world, conversation_id, reply["id"])
    assert len(peer.requests) == 3
    assert (message["delivery_state"], message["error_code"]) == ("failed", "network")
    assert "Name or service not known" in message["error_reason"]


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_client_error_is_permanent(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer, frames: Subscriber, status: int
) -> None:
    world = cb_world
    peer.default = httpx.Response(status, json={"error": "unknown contact"})
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "nope")

    message = await settle(runtime, client, world, conversation_id, reply["id"])

    assert len(peer.requests) == 1
    assert message["delivery_state"] == "failed"
    assert message["error_code"] == f"http_{status}"
    assert message["error_reason"].startswith(f"callback answered HTTP {status}:")
    assert "unknown contact" in message["error_reason"]
    assert _updates(frames, reply["id"]) == [("failed", f"http_{status}")]


async def test_no_callback_url_fails_with_no_callback(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer, frames: Subscriber
) -> None:
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "to nowhere")

    message = await settle(runtime, client, world, conversation_id, reply["id"])

    assert peer.requests == []
    assert (message["delivery_state"], message["error_code"]) == ("failed", "no_callback")
    assert "callback URL" in message["error_reason"]
    assert _updates(frames, reply["id"]) == [("failed", "no_callback")]


async def test_bot_reply_queued_before_a_takeover_is_not_sent(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer, frames: Subscriber
) -> None:
    world = cb_world
    conversation_id = await _conversation(client, world)
    await drain(runtime)
    handback = await client.post(f"/api/v1/conversations/{conversation_id}/handback", headers=world.agent.headers)
    assert handback.status_code == 200, handback.text
    assert handback.json()["handler"] == "bot"
    async with runtime.db.transaction() as session:
        bot_message = await send_reply(
            session, conversation_id=conversation_id, author=BOT, text="I am the bot", blobs=runtime.blobs
        )
    # An operator takes over before the worker gets to the bot's reply.
    takeover = await client.post(f"/api/v1/conversations/{conversation_id}/takeover", headers=world.agent.headers)
    assert takeover.status_code == 200, takeover.text
    assert takeover.json()["handler"] == "human"

    message = await settle(runtime, client, world, conversation_id, bot_message.id)

    assert peer.requests == []
    assert message["author_kind"] == "bot"
    assert (message["delivery_state"], message["error_code"]) == ("failed", "bot_paused")
    assert "human took over" in message["error_reason"]
    assert _updates(frames, bot_message.id) == [("failed", "bot_paused")]

    # The operator's own reply still goes out.
    reply = await _reply(client, world, conversation_id, "Hi, a human here")
    sent = await settle(runtime, client, world, conversation_id, reply["id"])
    assert sent["delivery_state"] == "sent"
    assert [json.loads(r.content)["message"]["text"] for r in peer.requests] == ["Hi, a human here"]


async def test_the_bots_own_handoff_does_not_cancel_the_reply_it_queued_before(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    """Two unclear messages: the bot's "Sorry, I did not understand" is still waiting for the callback when
    the second one makes the bot hand over; the customer must still get it (only a human's takeover cancels)."""
    world = cb_world
    conversation_id = await _conversation(client, world)
    await drain(runtime)
    handback = await client.post(f"/api/v1/conversations/{conversation_id}/handback", headers=world.agent.headers)
    assert handback.status_code == 200, handback.text
    # The callback is down for the first attempt; each reply then gets its own provider id.
    peer.script = [httpx.ConnectError("connection refused")]
    peer.default = lambda request: httpx.Response(200, json={"id": f"provider-{len(peer.requests)}"})
    async with runtime.db.transaction() as session:
        bot_message = await send_reply(
            session, conversation_id=conversation_id, author=BOT, text="Sorry, I did not get that", blobs=runtime.blobs
        )
    async with runtime.db.transaction() as session:
        conversation = await session.get(Conversation, conversation_id, with_for_update=True)
        assert conversation is not None
        notice = await escalate(
            session,
            conversation,
            trigger=Trigger("low_confidence", "2 unclear messages in a row"),
            summary="Reason: low_confidence.",
            state=dict(conversation.bot_state or {}),
            blobs=runtime.blobs,
            notify=True,
            message_id=None,
        )
    assert notice is not None

    message = await settle(runtime, client, world, conversation_id, bot_message.id)
    assert (message["delivery_state"], message["error_code"]) == ("sent", None), message
    handoff_notice = await settle(runtime, client, world, conversation_id, notice.id)
    assert handoff_notice["delivery_state"] == "sent"
    sent = [b["message"]["text"] for b in peer.json_bodies()]
    assert "Sorry, I did not get that" in sent

    # A person taking over still cancels the bot's replies queued before that.
    handback = await client.post(f"/api/v1/conversations/{conversation_id}/handback", headers=world.agent.headers)
    assert handback.status_code == 200, handback.text
    async with runtime.db.transaction() as session:
        late = await send_reply(session, conversation_id=conversation_id, author=BOT, text="late", blobs=runtime.blobs)
    takeover = await client.post(f"/api/v1/conversations/{conversation_id}/takeover", headers=world.agent.headers)
    assert takeover.status_code == 200, takeover.text
    late_message = await settle(runtime, client, world, conversation_id, late.id)
    assert (late_message["delivery_state"], late_message["error_code"]) == ("failed", "bot_paused")


async def test_bot_reply_on_a_bot_handled_conversation_is_sent(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    world = cb_world
    conversation_id = await _conversation(client, world)
    assert (
        await client.post(f"/api/v1/conversations/{conversation_id}/handback", headers=world.agent.headers)
    ).status_code == 200
    async with runtime.db.transaction() as session:
        bot_message = await send_reply(
            session, conversation_id=conversation_id, author=BOT, text="Bot here", blobs=runtime.blobs
        )
    message = await settle(runtime, client, world, conversation_id, bot_message.id)
    assert message["delivery_state"] == "sent"
    assert json.loads(peer.requests[0].content)["message"]["author"] == {"kind": "bot", "name": None}


async def test_bot_menu_carries_its_quick_replies_to_the_callback(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    world = cb_world
    conversation_id = await _conversation(client, world)
    await client.post(f"/api/v1/conversations/{conversation_id}/handback", headers=world.agent.headers)
    async with runtime.db.transaction() as session:
        menu = await send_reply(
            session,
            conversation_id=conversation_id,
            author=BOT,
            text="I can help you with:\n1) Insurance claim\n2) Order status",
            content={"quick_replies": ["Insurance claim", "Order status"]},
            blobs=runtime.blobs,
        )
    assert (await settle(runtime, client, world, conversation_id, menu.id))["delivery_state"] == "sent"
    assert json.loads(peer.requests[0].content)["message"]["quick_replies"] == ["Insurance claim", "Order status"]


async def test_reply_with_a_file_carries_a_signed_download_url(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    world = cb_world
    conversation_id = await _conversation(client, world)
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data={"text": "the invoice"},
        files={"files": ("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf")},
        headers=world.agent.headers,
    )
    assert response.status_code == 201, response.text
    await settle(runtime, client, world, conversation_id, response.json()["id"])
    (attachment,) = json.loads(peer.requests[0].content)["message"]["attachments"]
    assert attachment["filename"] == "invoice.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["size"] == len(b"%PDF-1.4 invoice")
    assert attachment["url"].startswith("http://testserver/api/v1/attachments/")
    client.cookies.clear()
    download = await client.get(attachment["url"].removeprefix("http://testserver"))
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 invoice"


async def _refused_connect_error() -> httpx.ConnectError:
    """The error a real connection to a closed loopback port raises (nothing listens there)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient() as real:
        try:
            await real.post(f"http://127.0.0.1:{port}/cb", content=b"{}")
        except httpx.ConnectError as exc:
            return exc
    raise AssertionError("something listened on the closed port")


async def test_retrying_reply_shows_the_last_attempts_reason_then_fails_with_it(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer, frames: Subscriber
) -> None:
    """W8: a callback that refuses connections must not leave an unexplained "Sending": while the outbox
    retries, the message is queued with the attempt's reason (API field and a live frame); after the budget
    it is failed with the last reason."""
    world = cb_world
    refused = await _refused_connect_error()
    peer.script = [refused]
    peer.default = httpx.Response(503, text="maintenance")
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "anyone there?")
    drained(frames)

    assert await build_worker(runtime).run_once()
    message = await _message(client, world, conversation_id, reply["id"])
    assert (message["delivery_state"], message["error_code"]) == ("queued", "connection_refused")
    assert "refused the connection" in message["error_reason"]
    await drain(runtime)
    frames_so_far = _updates(frames, reply["id"])
    assert frames_so_far[0] == ("queued", "connection_refused")

    message = await settle(runtime, client, world, conversation_id, reply["id"])
    assert (message["delivery_state"], message["error_code"]) == ("failed", "http_503")
    assert message["error_reason"] == "callback answered HTTP 503: maintenance"
    assert frames_so_far[1:] + _updates(frames, reply["id"]) == [("queued", "http_503"), ("failed", "http_503")]


async def test_a_reason_recorded_while_retrying_is_cleared_when_the_reply_goes_out(
    client: httpx.AsyncClient, cb_world: World, runtime: Runtime, peer: Peer
) -> None:
    world = cb_world
    peer.script = [await _refused_connect_error()]
    peer.default = httpx.Response(200, json={"id": "ext-9"})
    conversation_id = await _conversation(client, world)
    reply = await _reply(client, world, conversation_id, "eventually")
    message = await settle(runtime, client, world, conversation_id, reply["id"])
    assert (message["delivery_state"], message["error_code"], message["error_reason"]) == ("sent", None, None)
