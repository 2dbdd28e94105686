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
