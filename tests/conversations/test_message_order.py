"""Provider time is the truth in the timeline: a message delivered late is listed where it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from helpline.platform.clock import utcnow
from tests.conftest import World
from tests.support import post_inbound


async def page(client: httpx.AsyncClient, world: World, conversation_id: int, **params: Any) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/conversations/{conversation_id}/messages", params=params, headers=world.admin.headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def texts(items: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in items]


async def test_a_late_message_is_placed_by_its_provider_time_in_every_page(
    client: httpx.AsyncClient, world: World
) -> None:
    start = (utcnow() - timedelta(hours=1)).replace(microsecond=0)

    async def customer(message_id: str, text: str, at: datetime) -> None:
        response = await post_inbound(
            client, world.channel_id, world.channel_secret, message_id=message_id, text=text, timestamp=at.isoformat()
        )
        assert response.status_code == 200, response.text

    await customer("m-1", "one", start)
    await customer("m-3", "three", start + timedelta(minutes=2))
    listed = await client.get("/api/v1/conversations", headers=world.admin.headers)
    conversation_id = listed.json()["items"][0]["id"]
    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "reply"}, headers=world.admin.headers
    )
    assert reply.status_code == 201, reply.text
    # Delivered after the reply, but written before it: between "one" and "three", and after "three".
    await customer("m-2", "two, delivered late", start + timedelta(minutes=1))
    await customer("m-4", "four, delivered late", start + timedelta(minutes=3))
    # A clock skewed into the future is capped at the time Helpline stored it: it is the newest.
    await customer("m-5", "five, from the future", utcnow() + timedelta(days=1))

    whole = await page(client, world, conversation_id)
    expected = ["one", "two, delivered late", "three", "four, delivered late", "reply", "five, from the future"]
    assert texts(whole["items"]) == expected
    assert whole["next_cursor"] is None
    occurred = [datetime.fromisoformat(m["occurred_at"]) for m in whole["items"]]
    assert occurred == sorted(occurred)
    assert occurred[1] == start + timedelta(minutes=1)
    assert occurred[5] <= datetime.fromisoformat(whole["items"][5]["created_at"]).astimezone(UTC)

    # Keyset pages of two: the same order, nothing repeated, nothing skipped.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        current = await page(client, world, conversation_id, limit=2, **({"cursor": cursor} if cursor else {}))
        seen = texts(current["items"]) + seen
        cursor = current["next_cursor"]
        if cursor is None:
            break
    assert seen == expected

    # Catch-up after a reconnect returns what was stored after a message, late ones included.
    reply_id = reply.json()["id"]
    caught_up = await page(client, world, conversation_id, after=reply_id)
    assert texts(caught_up["items"]) == ["two, delivered late", "four, delivered late", "five, from the future"]

    # The preview stays with the newest message: the late ones never took it.
    conversation = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=world.admin.headers)).json()
    assert conversation["last_message"]["preview"] == "five, from the future"


async def test_a_cursor_that_is_not_a_message_of_the_conversation_is_422(
    client: httpx.AsyncClient, world: World
) -> None:
    for i in range(3):
        response = await post_inbound(client, world.channel_id, world.channel_secret, message_id=f"m-{i}", text=f"{i}")
        assert response.status_code == 200
    other = await post_inbound(
        client, world.channel_id, world.channel_secret, contact_id="c-2", message_id="m-x", text="elsewhere"
    )
    assert other.status_code == 200
    listed = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    mine = next(c for c in listed if c["last_message"]["preview"] == "2")
    theirs = next(c for c in listed if c["id"] != mine["id"])
    foreign = (await page(client, world, theirs["id"]))["items"][0]["id"]
    for cursor in (str(foreign), "999999999", "abc"):
        response = await client.get(
            f"/api/v1/conversations/{mine['id']}/messages",
            params={"cursor": cursor},
            headers=world.admin.headers,
        )
        assert response.status_code == 422, (cursor, response.text)
        assert response.json()["error"]["code"] == "bad_cursor"
