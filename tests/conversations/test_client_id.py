"""client_id on replies: stored and echoed (response, list, frame), a retry returns the first message with 200,
concurrent retries send once, and the id is scoped to its conversation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpline.conversations import actions
from helpline.conversations.models import Message
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.conftest import World
from tests.conversations.conftest import Line, count, say
from tests.support import outbox_payloads

API = "/api/v1/conversations"


async def test_a_retry_with_the_same_client_id_returns_the_first_message(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    url, headers = f"{API}/{conversation_id}/messages", world.agent.headers
    first = await client.post(url, json={"text": "On it", "client_id": "tab1:0001"}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["client_id"] == "tab1:0001"

    again = await client.post(url, json={"text": "On it", "client_id": "tab1:0001"}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    # Even with another text: the id names the send, so the retry never becomes a second message.
    edited = await client.post(url, json={"text": "On it!", "client_id": "tab1:0001"}, headers=headers)
    assert (edited.status_code, edited.json()["id"]) == (200, first.json()["id"])
    other = await client.post(url, json={"text": "On it", "client_id": "tab1:0002"}, headers=headers)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    plain = await client.post(url, json={"text": "no id"}, headers=headers)
    assert plain.status_code == 201 and plain.json()["client_id"] is None

    assert (
        await count(runtime, Message, Message.conversation_id == conversation_id, Message.direction == "outbound") == 3
    )
    async with runtime.db.sessions() as session:
        rows = list((await session.execute(select(OutboxRow))).scalars())
    assert len([r for r in rows if r.topic == "delivery.send"]) == 3
    frames = [p for p in outbox_payloads(rows, "realtime.publish") if p["type"] == "message.created"]
    assert [f["data"]["client_id"] for f in frames if f["data"]["direction"] == "outbound"] == [
        "tab1:0001",
        "tab1:0002",
        None,
    ]
    listed = (await client.get(url, headers=headers)).json()["items"]
    assert [m["client_id"] for m in listed] == [None, "tab1:0001", "tab1:0002", None]


async def test_multipart_replies_take_a_client_id_too(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    url, headers = f"{API}/{conversation_id}/messages", world.agent.headers
    form: dict[str, Any] = {"data": {"text": "the file", "client_id": "up-1"}}
    files = {"files": ("a.txt", b"hello", "text/plain")}
    first = await client.post(url, files=files, headers=headers, **form)
    assert first.status_code == 201, first.text
    assert (first.json()["client_id"], len(first.json()["attachments"])) == ("up-1", 1)
    again = await client.post(url, files=files, headers=headers, **form)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    bad = await client.post(url, files=files, headers=headers, data={"client_id": "x" * 65})
    assert bad.status_code == 422


async def test_the_same_client_id_in_another_conversation_is_another_message(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    first = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    second = await say(client, runtime, line, contact_id="b", text="hello", message_id="2")
    body = {"text": "Hi", "client_id": "same"}
    one = await client.post(f"{API}/{first}/messages", json=body, headers=world.agent.headers)
    two = await client.post(f"{API}/{second}/messages", json=body, headers=world.agent.headers)
    assert (one.status_code, two.status_code) == (201, 201)
    assert (one.json()["conversation_id"], two.json()["conversation_id"]) == (first, second)
    # Someone who may not see the conversation learns nothing from a client id either.
    hidden = await client.post(f"{API}/{first}/messages", json=body, headers=world.outsider.headers)
    assert hidden.status_code == 404


async def test_concurrent_retries_send_once(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    url = f"{API}/{conversation_id}/messages"
    responses = await asyncio.gather(
        *[client.post(url, json={"text": "Once", "client_id": "race"}, headers=world.agent.headers) for _ in range(6)]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count(runtime, Message, Message.client_id == "race") == 1


async def test_bad_client_ids_are_refused(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    url = f"{API}/{conversation_id}/messages"
    for client_id in ("", "x" * 65, "has space", "<script>", 12):
        response = await client.post(url, json={"text": "Hi", "client_id": client_id}, headers=world.agent.headers)
        assert response.status_code == 422, client_id
    ok = await client.post(url, json={"text": "Hi", "client_id": "A" * 64}, headers=world.agent.headers)
    assert ok.status_code == 201, ok.text


async def test_the_unique_index_backs_the_lookup(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send that slips past the lookup (simulated: the lookup misses once) hits the unique index, and the
    route answers with the message that won (200), never a second message nor a 500."""
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    url = f"{API}/{conversation_id}/messages"
    first = await client.post(url, json={"text": "Once", "client_id": "dup"}, headers=world.agent.headers)
    assert first.status_code == 201
    real = actions.find_by_client_id
    misses = [True]

    async def miss_once(session: Any, conversation: int, client_id: str) -> Message | None:
        if misses and misses.pop():
            return None
        return await real(session, conversation, client_id)

    monkeypatch.setattr(actions, "find_by_client_id", miss_once)
    again = await client.post(url, json={"text": "Once", "client_id": "dup"}, headers=world.agent.headers)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert misses == []
    assert await count(runtime, Message, Message.client_id == "dup") == 1

    with pytest.raises(IntegrityError):
        async with runtime.db.transaction() as session:
            await actions.send_reply(
                session,
                conversation_id=conversation_id,
                author=actions.Author.operator(world.agent.id),
                text="twice",
                blobs=runtime.blobs,
                client_id="dup",
            )
