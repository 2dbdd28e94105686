"""Timeline events: every handling action leaves a system message in order, in the same transaction, that is
never delivered, never unread, never the list's preview, and reaches only the channel's operators live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.conversations.models import Message
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.conftest import World, drain
from tests.conversations.conftest import Line, say
from tests.support import outbox_payloads

API = "/api/v1/conversations"


async def messages(
    client: httpx.AsyncClient, world: World, conversation_id: int, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/{conversation_id}/messages", params=params, headers=world.agent.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def events(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["content"] for m in items if m["content_type"] == "event"]


async def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_each_action_is_an_event_in_order(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    agent, admin = world.agent.headers, world.admin.headers
    conversation_id = await say(client, runtime, line, contact_id="a", name="Ana", text="hello", message_id="1")
    event = await client.post("/api/v1/events", json={"name": "Expo 2026"}, headers=admin)
    event_id = event.json()["id"]
    until = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    me = {"id": world.agent.id, "name": "Agent"}
    boss = {"id": world.admin.id, "name": "Admin"}

    await ok(await client.post(f"{API}/{conversation_id}/takeover", headers=agent))
    await ok(
        await client.post(f"{API}/{conversation_id}/assign", json={"operator_id": world.supervisor.id}, headers=admin)
    )
    await ok(await client.post(f"{API}/{conversation_id}/assign", json={"operator_id": None}, headers=admin))
    await ok(await client.patch(f"{API}/{conversation_id}", json={"priority": "urgent"}, headers=agent))
    await ok(await client.patch(f"{API}/{conversation_id}", json={"tags": ["VIP", "refund"]}, headers=agent))
    await ok(await client.patch(f"{API}/{conversation_id}", json={"tags": ["vip", "late"]}, headers=agent))
    await ok(await client.patch(f"{API}/{conversation_id}", json={"event_id": event_id}, headers=agent))
    await ok(await client.post(f"{API}/{conversation_id}/snooze", json={"until": until.isoformat()}, headers=agent))
    await ok(await client.post(f"{API}/{conversation_id}/reopen", headers=agent))
    await ok(await client.post(f"{API}/{conversation_id}/resolve", headers=agent))
    await ok(await client.post(f"{API}/{conversation_id}/reopen", headers=agent))
    await ok(await client.post(f"{API}/{conversation_id}/handback", headers=agent))
    # Changes that change nothing record nothing.
    await ok(
        await client.patch(
            f"{API}/{conversation_id}", json={"priority": "urgent", "tags": ["late", "VIP"]}, headers=agent
        )
    )

    items = await messages(client, world, conversation_id)
    assert items[0]["author_kind"] == "contact"
    assert events(items) == [
        {"event": "took_over", "actor": me},
        {
            "event": "assigned",
            "actor": boss,
            "assignee": {"id": world.supervisor.id, "name": "Supervisor"},
            "previous": me,
        },
        {"event": "unassigned", "actor": boss, "previous": {"id": world.supervisor.id, "name": "Supervisor"}},
        {"event": "priority_changed", "actor": me, "to": "urgent", "previous": "none"},
        {"event": "tags_changed", "actor": me, "added": ["refund", "vip"], "removed": []},
        {"event": "tags_changed", "actor": me, "added": ["late"], "removed": ["refund"]},
        {"event": "event_changed", "actor": me, "to": {"id": event_id, "name": "Expo 2026"}, "previous": None},
        {"event": "snoozed", "actor": me, "until": "2031-03-03T09:00:00+00:00"},
        {"event": "reopened", "actor": me, "previous_status": "snoozed"},
        {"event": "resolved", "actor": me},
        {"event": "reopened", "actor": me, "previous_status": "resolved"},
        {"event": "handed_back", "actor": me},
    ]
    for item in items[1:]:
        assert (item["author_kind"], item["direction"], item["delivery_state"]) == ("system", "outbound", "internal")
        assert (item["text"], item["operator"], item["attachments"]) == (None, None, [])
    assert [m["id"] for m in items] == sorted(m["id"] for m in items)
    # Catch-up after a reconnect returns them too.
    after = await messages(client, world, conversation_id, after=items[5]["id"])
    assert [m["id"] for m in after] == [m["id"] for m in items[6:]]


async def test_events_are_not_delivered_unread_previewed_nor_window_openers(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    agent = world.agent.headers
    conversation_id = await say(client, runtime, line, contact_id="a", name="Ana", text="hello", message_id="1")
    await drain(runtime)
    before = await ok(await client.get(f"{API}/{conversation_id}", headers=agent))

    await ok(await client.post(f"{API}/{conversation_id}/takeover", headers=agent))
    await ok(await client.patch(f"{API}/{conversation_id}", json={"priority": "high"}, headers=agent))
    async with runtime.db.sessions() as session:
        rows = list((await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())
    assert not [r for r in rows if r.topic == "delivery.send"]
    # Webhook subscribers get the conversation change, not a message per event.
    assert not [r for r in rows if r.topic == "webhooks.event" and r.payload["event"] == "message.created"]
    frames = [p for p in outbox_payloads(rows, "realtime.publish") if p["type"] == "message.created"]
    assert [f["data"]["content"]["event"] for f in frames] == ["took_over", "priority_changed"]
    assert all(f["audience"] == {"channel_id": line.id} for f in frames)
    assert all(f["conversation_id"] == conversation_id for f in frames)

    after = await ok(await client.get(f"{API}/{conversation_id}", headers=agent))
    assert after["last_message"] == before["last_message"]
    assert (after["unread_count"], after["last_inbound_at"]) == (before["unread_count"], before["last_inbound_at"])
    assert after["waiting_since"] == before["waiting_since"] is not None  # a takeover answers nothing yet
    await drain(runtime)
    async with runtime.db.sessions() as session:
        states = list(
            (
                await session.execute(
                    select(Message.delivery_state).where(Message.content_type == "event").order_by(Message.id)
                )
            ).scalars()
        )
    assert states == ["internal", "internal"]


async def test_event_frames_reach_only_members_of_the_channel(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    member = runtime.hub.subscribe(
        Principal(operator_id=world.agent.id, role=Role.agent, channel_ids=frozenset({line.id})), None
    )
    stranger = runtime.hub.subscribe(
        Principal(operator_id=world.outsider.id, role=Role.agent, channel_ids=frozenset({line.id + 1})), None
    )
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    await ok(await client.post(f"{API}/{conversation_id}/takeover", headers=world.agent.headers))
    await drain(runtime)

    def received(subscriber: Any) -> list[dict[str, Any]]:
        out = []
        while not subscriber.queue.empty():
            out.append(subscriber.queue.get_nowait())
        return out

    seen = [f for f in received(member) if f["type"] == "message.created"]
    assert [f["data"]["content_type"] for f in seen] == ["text", "event"]
    assert seen[1]["data"]["content"] == {"event": "took_over", "actor": {"id": world.agent.id, "name": "Agent"}}
    assert received(stranger) == []


async def test_a_reply_that_takes_over_from_the_bot_shows_the_takeover_first(
    client: httpx.AsyncClient, world: World, runtime: Runtime, bot_line: Line
) -> None:
    conversation_id = await say(client, runtime, bot_line, contact_id="a", text="hello", message_id="1")
    reply = await client.post(
        f"{API}/{conversation_id}/messages", json={"text": "Hi, Agent here"}, headers=world.agent.headers
    )
    assert reply.status_code == 201, reply.text
    items = await messages(client, world, conversation_id)
    assert [(m["author_kind"], m["content_type"]) for m in items] == [
        ("contact", "text"),
        ("system", "event"),
        ("operator", "text"),
    ]
    assert items[1]["content"]["event"] == "took_over"
    conversation = await ok(await client.get(f"{API}/{conversation_id}", headers=world.agent.headers))
    assert conversation["last_message"]["preview"] == "Hi, Agent here"
    assert conversation["last_message"]["author_name"] == "Agent"


async def test_a_failed_action_leaves_no_event(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    refused = await client.post(f"{API}/{conversation_id}/snooze", json={"until": past}, headers=world.agent.headers)
    assert refused.status_code == 422
    assert await client.post(f"{API}/{conversation_id}/resolve", headers=world.agent.headers)
    refused = await client.post(f"{API}/{conversation_id}/handback", headers=world.agent.headers)
    assert refused.status_code == 409
    assert [e["event"] for e in events(await messages(client, world, conversation_id))] == ["resolved"]
