"""The inbox list's newer filters and orders: window state, waiting for a human, oldest waiting first with its
cursor, contact, several statuses, priority, tag; and the list row's waiting / author / language fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from helpline.conversations.models import Conversation
from helpline.platform.clock import utcnow
from helpline.runtime import Runtime
from tests.conftest import World
from tests.conversations.conftest import Line, add_api_channel, insert_conversation, say

API = "/api/v1/conversations"


async def page(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(API, params=params, headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def listing(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[int]:
    return [item["id"] for item in (await page(client, headers, **params))["items"]]


async def walk(client: httpx.AsyncClient, headers: dict[str, str], limit: int, **params: Any) -> list[int]:
    """Every id over all pages of one query, following next_cursor."""
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(50):
        data = await page(client, headers, limit=limit, **({"cursor": cursor} if cursor else {}), **params)
        assert len(data["items"]) <= limit
        seen.extend(item["id"] for item in data["items"])
        cursor = data["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination does not terminate")


async def set_columns(runtime: Runtime, conversation_id: int, **values: Any) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))


# ---------------------------------------------------------------- window


async def test_window_filter_uses_each_channel_kinds_window(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    now = utcnow()
    # WhatsApp: 24 h free-form window, "closing" in its last hour (channels/whatsapp, engagement/windows).
    fresh = await insert_conversation(runtime, kind="whatsapp", contact_name="Fresh")
    closing = await insert_conversation(runtime, kind="whatsapp", contact_name="Closing")
    closed = await insert_conversation(runtime, kind="whatsapp", contact_name="Closed")
    never = await insert_conversation(runtime, kind="whatsapp", contact_name="Never wrote")
    messenger_closing = await insert_conversation(runtime, kind="messenger", contact_name="Mess")
    await set_columns(runtime, fresh, last_inbound_at=now - timedelta(hours=2))
    await set_columns(runtime, closing, last_inbound_at=now - timedelta(hours=23, minutes=20))
    await set_columns(runtime, closed, last_inbound_at=now - timedelta(hours=30))
    await set_columns(runtime, messenger_closing, last_inbound_at=now - timedelta(hours=23, minutes=30))
    no_window = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")  # API channel
    headers = world.admin.headers

    assert set(await listing(client, headers, window="open")) == {fresh}
    assert set(await listing(client, headers, window="closing")) == {closing, messenger_closing}
    assert set(await listing(client, headers, window="closed")) == {closed, never}
    assert set(await listing(client, headers)) == {fresh, closing, closed, never, messenger_closing, no_window}
    # The filter and the row's window chip agree: one policy.
    for state in ("open", "closing", "closed"):
        for item in (await page(client, headers, window=state))["items"]:
            assert item["window"]["state"] == state
    assert set(await listing(client, headers, window="closing", channel_kind="whatsapp")) == {closing}
    bad = await client.get(API, params={"window": "ajar"}, headers=headers)
    assert bad.status_code == 422


# ---------------------------------------------------------------- waiting for a human


async def test_waiting_starts_with_the_customer_and_ends_with_an_answer(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    headers = world.agent.headers
    conversation_id = await say(client, runtime, line, contact_id="a", name="Maria", text="hello", message_id="1")
    first = (await client.get(f"{API}/{conversation_id}", headers=headers)).json()
    assert first["waiting_since"] is not None
    assert first["waiting_since"] == first["last_inbound_at"]
    assert first["last_message"] == {
        "preview": "hello",
        "author_kind": "contact",
        "author_name": "Maria",
        "at": first["last_message"]["at"],
    }
    assert await listing(client, headers, waiting="true") == [conversation_id]

    # A second unanswered message does not move the start of the wait.
    await say(client, runtime, line, contact_id="a", name="Maria", text="anyone?", message_id="2")
    second = (await client.get(f"{API}/{conversation_id}", headers=headers)).json()
    assert second["waiting_since"] == first["waiting_since"]

    reply = await client.post(f"{API}/{conversation_id}/messages", json={"text": "Hi!"}, headers=headers)
    assert reply.status_code == 201, reply.text
    answered = (await client.get(f"{API}/{conversation_id}", headers=headers)).json()
    assert answered["waiting_since"] is None
    assert (answered["last_message"]["author_kind"], answered["last_message"]["author_name"]) == ("operator", "Agent")
    assert await listing(client, headers, waiting="true") == []
    assert await listing(client, headers, waiting="false") == [conversation_id]

    await say(client, runtime, line, contact_id="a", name="Maria", text="thanks, one more thing", message_id="3")
    again = (await client.get(f"{API}/{conversation_id}", headers=headers)).json()
    assert again["waiting_since"] is not None and again["waiting_since"] > first["waiting_since"]

    # Resolving ends the wait; reopening does not invent one.
    assert (await client.post(f"{API}/{conversation_id}/resolve", headers=headers)).status_code == 200
    assert (await client.get(f"{API}/{conversation_id}", headers=headers)).json()["waiting_since"] is None
    assert (await client.post(f"{API}/{conversation_id}/reopen", headers=headers)).status_code == 200
    assert (await client.get(f"{API}/{conversation_id}", headers=headers)).json()["waiting_since"] is None


async def test_a_bot_handled_conversation_is_not_waiting_for_a_human(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    headers = world.agent.headers
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    assert (await client.post(f"{API}/{conversation_id}/handback", headers=headers)).status_code == 200
    handed = (await client.get(f"{API}/{conversation_id}", headers=headers)).json()
    assert (handed["handler"], handed["waiting_since"], handed["escalation"]) == ("bot", None, None)
    await say(client, runtime, line, contact_id="a", text="hello again", message_id="2")
    # The customer wrote to the bot: still not waiting for a person.
    assert (await client.get(f"{API}/{conversation_id}", headers=headers)).json()["waiting_since"] is None
    assert await listing(client, headers, waiting="true") == []


async def test_language_comes_from_the_bot_then_the_contact(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    headers = world.agent.headers
    conversation_id = await say(client, runtime, line, contact_id="a", text="hello", message_id="1")
    assert (await client.get(f"{API}/{conversation_id}", headers=headers)).json()["language"] is None
    contact_id = (await client.get(f"{API}/{conversation_id}", headers=headers)).json()["contact"]["id"]
    patched = await client.patch(
        f"/api/v1/contacts/{contact_id}", json={"attributes": {"language": "pt"}}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert (await client.get(f"{API}/{conversation_id}", headers=headers)).json()["language"] == "pt"
    await set_columns(runtime, conversation_id, bot_state={"lang": "es", "mode": "idle"})
    assert (await client.get(f"{API}/{conversation_id}", headers=headers)).json()["language"] == "es"


# ---------------------------------------------------------------- sort=waiting


async def test_sort_waiting_puts_the_longest_wait_first_and_pages_over_every_row(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    ids = [await say(client, runtime, line, contact_id=f"c{i}", text="x", message_id=f"m{i}") for i in range(7)]
    base = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    # Waits: c3 oldest, then c0, then c5 and c1 at the same instant (tie broken by id); c2, c4, c6 answered.
    waits = {3: base, 0: base + timedelta(minutes=5), 5: base + timedelta(minutes=9), 1: base + timedelta(minutes=9)}
    for index, conversation_id in enumerate(ids):
        await set_columns(runtime, conversation_id, waiting_since=waits.get(index))
    headers = world.agent.headers
    expected = [ids[3], ids[0], ids[1], ids[5], ids[2], ids[4], ids[6]]

    assert await listing(client, headers, sort="waiting") == expected
    for limit in (1, 2, 3, 4):
        assert await walk(client, headers, limit, sort="waiting") == expected
    assert await walk(client, headers, 2, sort="waiting", waiting="true") == expected[:4]
    # The default order is untouched by the waits: newest activity first.
    assert await walk(client, headers, 3) == list(reversed(ids))

    # A cursor continues only the order it was made for.
    recent_cursor = (await page(client, headers, limit=2))["next_cursor"]
    waiting_cursor = (await page(client, headers, limit=2, sort="waiting"))["next_cursor"]
    for params in ({"sort": "waiting", "cursor": recent_cursor}, {"cursor": waiting_cursor}):
        refused = await client.get(API, params=params, headers=headers)
        assert refused.status_code == 422, params
        assert refused.json()["error"]["code"] == "bad_cursor"
    assert (await client.get(API, params={"sort": "oldest"}, headers=headers)).status_code == 422


# ---------------------------------------------------------------- contact, statuses, priority, tag


async def test_contact_filter_lists_a_contacts_conversations_the_operator_may_see(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    other = await add_api_channel(client, world.admin, name="Other", member_ids=[world.outsider.id])
    first = await say(client, runtime, line, contact_id="ana", text="one", message_id="1")
    await say(client, runtime, line, contact_id="bob", text="two", message_id="2")
    contact_id = (await client.get(f"{API}/{first}", headers=world.admin.headers)).json()["contact"]["id"]
    assert (await client.post(f"{API}/{first}/resolve", headers=world.agent.headers)).status_code == 200
    second = await say(client, runtime, line, contact_id="ana", text="three", message_id="3")
    # The same identity on another channel kind would be another contact; attach one through the ORM instead.
    elsewhere = await say(client, runtime, other, contact_id="ana-other", text="four", message_id="4")
    await set_columns(runtime, elsewhere, contact_id=contact_id)

    assert await listing(client, world.admin.headers, contact_id=contact_id) == [elsewhere, second, first]
    # The agent is not a member of the other channel: that conversation stays hidden.
    assert await listing(client, world.agent.headers, contact_id=contact_id) == [second, first]
    assert await listing(client, world.outsider.headers, contact_id=contact_id) == [elsewhere]
    assert await listing(client, world.agent.headers, contact_id=contact_id + 1000) == []


async def test_several_statuses_priorities_and_a_tag(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    headers = world.agent.headers
    open_one = await say(client, runtime, line, contact_id="a", text="one", message_id="1")
    pending = await say(client, runtime, line, contact_id="b", text="two", message_id="2")
    resolved = await say(client, runtime, line, contact_id="c", text="three", message_id="3")
    assert (await client.post(f"{API}/{pending}/handback", headers=headers)).status_code == 200
    assert (await client.post(f"{API}/{resolved}/resolve", headers=headers)).status_code == 200
    for conversation_id, body in (
        (open_one, {"priority": "urgent", "tags": ["VIP", "refund"]}),
        (pending, {"priority": "high", "tags": ["refund"]}),
        (resolved, {"priority": "low", "tags": ["vip-lounge"]}),
    ):
        assert (await client.patch(f"{API}/{conversation_id}", json=body, headers=headers)).status_code == 200

    assert set(await listing(client, headers, status=["open", "pending"])) == {open_one, pending}
    assert set(await listing(client, headers, status=["open", "resolved"])) == {open_one, resolved}
    assert await listing(client, headers, priority="urgent") == [open_one]
    assert set(await listing(client, headers, priority=["urgent", "high"])) == {open_one, pending}
    assert set(await listing(client, headers, tag="refund")) == {open_one, pending}
    # Exact tags (stored lower-case), no prefix match.
    assert await listing(client, headers, tag="VIP") == [open_one]
    assert await listing(client, headers, tag="vip-lounge") == [resolved]
    assert await listing(client, headers, tag="vi") == []
    assert await listing(client, headers, tag="refund", status="pending") == [pending]
    assert (await client.get(API, params={"priority": "critical"}, headers=headers)).status_code == 422
    assert (await client.get(API, params={"status": ["open", "closed"]}, headers=headers)).status_code == 422
