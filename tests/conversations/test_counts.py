"""GET /conversations/counts: per preset, per channel and the oldest wait, only over what the operator may see,
and each preset's count equal to the length of the list its query gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from helpline.conversations.models import Conversation
from helpline.platform.clock import utcnow
from helpline.runtime import Runtime
from tests.conftest import Persona, World
from tests.conversations.conftest import Line, add_api_channel, insert_conversation, say

API = "/api/v1/conversations"


async def counts(client: httpx.AsyncClient, persona: Persona) -> dict[str, Any]:
    response = await client.get(f"{API}/counts", headers=persona.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def set_columns(runtime: Runtime, conversation_id: int, **values: Any) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))


async def list_all(client: httpx.AsyncClient, persona: Persona, query: str) -> list[int]:
    ids: list[int] = []
    cursor = ""
    while True:
        response = await client.get(f"{API}?{query}&limit=200{cursor}", headers=persona.headers)
        assert response.status_code == 200, response.text
        ids.extend(item["id"] for item in response.json()["items"])
        if not response.json()["next_cursor"]:
            return ids
        cursor = f"&cursor={response.json()['next_cursor']}"


async def test_counts_per_preset_and_channel_for_each_role(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    agent = world.agent.headers
    other = await add_api_channel(client, world.admin, name="Other", member_ids=[world.outsider.id])
    # On the agent's channel: one waiting (mine), one answered (mine), one bot, one snoozed, one resolved.
    waiting_mine = await say(client, runtime, line, contact_id="a", text="help", message_id="1")
    answered = await say(client, runtime, line, contact_id="b", text="hi", message_id="2")
    bot = await say(client, runtime, line, contact_id="c", text="hi", message_id="3")
    snoozed = await say(client, runtime, line, contact_id="d", text="hi", message_id="4")
    resolved = await say(client, runtime, line, contact_id="e", text="hi", message_id="5")
    assert (await client.post(f"{API}/{waiting_mine}/takeover", headers=agent)).status_code == 200
    assert (await client.post(f"{API}/{answered}/takeover", headers=agent)).status_code == 200
    assert (await client.post(f"{API}/{answered}/messages", json={"text": "ok"}, headers=agent)).status_code == 201
    assert (await client.post(f"{API}/{bot}/handback", headers=agent)).status_code == 200
    until = (utcnow() + timedelta(days=1)).isoformat()
    assert (await client.post(f"{API}/{snoozed}/snooze", json={"until": until}, headers=agent)).status_code == 200
    assert (await client.post(f"{API}/{resolved}/resolve", headers=agent)).status_code == 200
    # On the outsider's channel: one waiting since long ago, unassigned.
    elsewhere = await say(client, runtime, other, contact_id="f", text="hello?", message_id="6")
    long_ago = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    await set_columns(runtime, elsewhere, waiting_since=long_ago)
    # A WhatsApp conversation (no members) whose window is closing, and one closed.
    closing = await insert_conversation(runtime, kind="whatsapp", contact_name="Wanda")
    await set_columns(runtime, closing, last_inbound_at=utcnow() - timedelta(hours=23, minutes=30))
    closed = await insert_conversation(runtime, kind="whatsapp", contact_name="Walt")
    await set_columns(runtime, closed, last_inbound_at=utcnow() - timedelta(hours=30))

    mine = await counts(client, world.agent)
    assert mine["presets"] == {
        "all": 5,
        "mine_open": 2,
        "waiting": 1,
        "bot": 1,
        "closing_soon": 0,
        "snoozed": 1,
        "resolved": 1,
    }
    assert mine["channels"] == [{"channel_id": line.id, "waiting": 1, "bot": 1, "closing_soon": 0}]
    mine_row = {"operator_id": world.agent.id, "name": "Agent", "open": 2, "waiting": 1}
    assert mine["operators"] == [mine_row]
    waiting_since = (await client.get(f"{API}/{waiting_mine}", headers=agent)).json()["waiting_since"]
    assert mine["oldest_waiting_since"] == waiting_since

    admin = await counts(client, world.admin)
    assert admin["presets"] == {
        "all": 8,
        "mine_open": 0,
        "waiting": 2,
        "bot": 1,
        "closing_soon": 1,
        "snoozed": 1,
        "resolved": 1,
    }
    assert admin["oldest_waiting_since"] == "2026-01-01T08:00:00Z"
    assert admin["operators"] == [mine_row]
    by_channel = {c["channel_id"]: c for c in admin["channels"]}
    assert by_channel[other.id] == {"channel_id": other.id, "waiting": 1, "bot": 0, "closing_soon": 0}
    closing_channel = (await client.get(f"{API}/{closing}", headers=world.admin.headers)).json()["channel"]["id"]
    assert by_channel[closing_channel]["closing_soon"] == 1

    outsider = await counts(client, world.outsider)
    assert outsider["presets"]["all"] == 1 and outsider["presets"]["waiting"] == 1
    assert [c["channel_id"] for c in outsider["channels"]] == [other.id]
    assert outsider["operators"] == []  # the agent's conversations are on a channel the outsider cannot see

    # Each preset's list query lists exactly as many conversations as its count says.
    for persona, data in ((world.agent, mine), (world.admin, admin), (world.outsider, outsider)):
        for key, query in data["preset_queries"].items():
            assert len(await list_all(client, persona, query)) == data["presets"][key], (persona.email, key)
    assert mine["preset_queries"]["waiting"] == "waiting=true&sort=waiting"
    assert await list_all(client, world.agent, mine["preset_queries"]["mine_open"]) == [answered, waiting_mine]


async def test_counts_of_an_agent_without_channels_are_zero(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    await say(client, runtime, line, contact_id="a", text="help", message_id="1")
    assert (await counts(client, world.agent))["presets"]["waiting"] == 1
    lonely = await client.post(
        "/api/v1/operators",
        json={"email": "new@example.com", "name": "New", "password": "correct horse battery", "role": "agent"},
        headers=world.admin.headers,
    )
    assert lonely.status_code == 201, lonely.text
    token = (
        await client.post("/api/v1/auth/login", json={"email": "new@example.com", "password": "correct horse battery"})
    ).json()["access_token"]
    client.cookies.clear()
    response = await client.get(f"{API}/counts", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert set(data["presets"].values()) == {0}
    assert (data["channels"], data["operators"], data["oldest_waiting_since"]) == ([], [], None)
    assert (await client.get(f"{API}/counts")).status_code == 401


async def test_counts_per_assignee_follow_status_and_waits(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    admin = world.admin.headers
    first = await say(client, runtime, line, contact_id="a", text="help", message_id="1")
    second = await say(client, runtime, line, contact_id="b", text="help", message_id="2")
    third = await say(client, runtime, line, contact_id="c", text="help", message_id="3")
    for conversation_id, operator in ((first, world.agent), (second, world.agent), (third, world.supervisor)):
        body = {"operator_id": operator.id}
        assert (await client.post(f"{API}/{conversation_id}/assign", json=body, headers=admin)).status_code == 200
    assert (await client.post(f"{API}/{second}/resolve", headers=admin)).status_code == 200
    assert (await client.post(f"{API}/{third}/messages", json={"text": "hi"}, headers=admin)).status_code == 201

    assert (await counts(client, world.admin))["operators"] == [
        {"operator_id": world.agent.id, "name": "Agent", "open": 1, "waiting": 1},
        {"operator_id": world.supervisor.id, "name": "Supervisor", "open": 1, "waiting": 0},
    ]
