"""The inbox API: list filters and cursors, conversation detail, messages, replies and the state actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from helpline.conversations.models import Conversation
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.conftest import World
from tests.conversations.conftest import Line, add_api_channel, count, insert_conversation, say

API = "/api/v1/conversations"


async def listing(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[int]:
    response = await client.get(API, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def detail(client: httpx.AsyncClient, world: World, conversation_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/{conversation_id}", headers=world.admin.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


# ---------------------------------------------------------------- filters


async def test_channel_kind_filter_is_repeatable(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    api = await say(
        client, runtime, Line(world.channel_id, world.channel_secret), contact_id="a", text="hi", message_id="1"
    )
    whatsapp = await insert_conversation(runtime, kind="whatsapp", contact_name="Wanda")
    email = await insert_conversation(runtime, kind="email", contact_name="Eve")
    headers = world.admin.headers

    assert set(await listing(client, headers)) == {api, whatsapp, email}
    assert await listing(client, headers, channel_kind="whatsapp") == [whatsapp]
    assert set(await listing(client, headers, channel_kind=["whatsapp", "email"])) == {whatsapp, email}
    assert await listing(client, headers, channel_kind="api") == [api]
    assert await listing(client, headers, channel_kind="instagram") == []


async def test_channel_id_and_profile_id_filters(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    profile = await client.post("/api/v1/profiles", json={"name": "Seguros"}, headers=world.admin.headers)
    assert profile.status_code == 201, profile.text
    profile_id = profile.json()["id"]
    other = await add_api_channel(
        client, world.admin, name="Profiled", member_ids=[world.agent.id], profile_id=profile_id
    )
    first = await say(client, runtime, line, contact_id="a", text="one", message_id="1")
    second = await say(client, runtime, other, contact_id="a", text="two", message_id="1")
    headers = world.agent.headers

    assert await listing(client, headers, channel_id=line.id) == [first]
    assert await listing(client, headers, channel_id=other.id) == [second]
    assert await listing(client, headers, profile_id=profile_id) == [second]
    assert await listing(client, headers, profile_id=profile_id + 1000) == []
    assert (await detail(client, world, second))["profile"]["name"] == "Seguros"


async def test_event_filter(client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line) -> None:
    event = await client.post("/api/v1/events", json={"name": "Expo 2026"}, headers=world.admin.headers)
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    tagged = await say(client, runtime, line, contact_id="a", text="one", message_id="1")
    await say(client, runtime, line, contact_id="b", text="two", message_id="2")
    patched = await client.patch(f"{API}/{tagged}", json={"event_id": event_id}, headers=world.agent.headers)
    assert patched.status_code == 200, patched.text

    assert await listing(client, world.agent.headers, event_id=event_id) == [tagged]


async def test_status_and_handler_filters(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    open_one = await say(client, runtime, line, contact_id="a", text="one", message_id="1")
    resolved = await say(client, runtime, line, contact_id="b", text="two", message_id="2")
    bot_one = await say(client, runtime, line, contact_id="c", text="three", message_id="3")
    headers = world.agent.headers
    assert (await client.post(f"{API}/{resolved}/resolve", headers=headers)).status_code == 200
    assert (await client.post(f"{API}/{bot_one}/handback", headers=headers)).status_code == 200

    assert await listing(client, headers, status="resolved") == [resolved]
    assert await listing(client, headers, status="open") == [open_one]
    assert await listing(client, headers, status="pending") == [bot_one]
    assert await listing(client, headers, handler="bot") == [bot_one]
    assert set(await listing(client, headers, handler="human")) == {open_one, resolved}
    assert (await client.get(API, params={"handler": "robot"}, headers=headers)).status_code == 422


async def test_assignee_filter_me_none_and_id(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    mine = await say(client, runtime, line, contact_id="a", text="one", message_id="1")
    supervisors = await say(client, runtime, line, contact_id="b", text="two", message_id="2")
    nobodys = await say(client, runtime, line, contact_id="c", text="three", message_id="3")
    assert (await client.post(f"{API}/{mine}/takeover", headers=world.agent.headers)).status_code == 200
    assigned = await client.post(
        f"{API}/{supervisors}/assign", json={"operator_id": world.supervisor.id}, headers=world.admin.headers
    )
    assert assigned.status_code == 200, assigned.text

    assert await listing(client, world.agent.headers, assignee="me") == [mine]
    assert await listing(client, world.supervisor.headers, assignee="me") == [supervisors]
    assert await listing(client, world.agent.headers, assignee="none") == [nobodys]
    assert await listing(client, world.admin.headers, assignee=str(world.supervisor.id)) == [supervisors]
    bad = await client.get(API, params={"assignee": "someone"}, headers=world.agent.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid"


async def test_text_search_over_contact_name_and_message_text(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    by_name = await say(client, runtime, line, contact_id="a", name="Beatriz Souza", text="oi", message_id="1")
    by_text = await say(client, runtime, line, contact_id="b", name="Carlos", text="primeira", message_id="2")
    await say(client, runtime, line, contact_id="b", name="Carlos", text="Meu PEDIDO 100% atrasado", message_id="3")
    await say(client, runtime, line, contact_id="c", name="Dora", text="nada a ver", message_id="4")
    headers = world.agent.headers

    assert await listing(client, headers, q="beatriz") == [by_name]
    assert await listing(client, headers, q="pedido") == [by_text]  # an older message also counts
    assert await listing(client, headers, q="100%") == [by_text]
    # LIKE wildcards in the query are literal characters, not "match anything".
    assert await listing(client, headers, q="%") == [by_text]
    assert await listing(client, headers, q="_") == []
    assert await listing(client, headers, q="zebra") == []


async def test_text_search_pages_through_name_and_text_matches_once_each(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    """The search is the union of a name page and a text page: the cursor must walk both, in activity order,
    a conversation matching both appearing once, and every other filter still applied."""
    both = await say(client, runtime, line, contact_id="a", name="Rosa Lima", text="rosa de papel", message_id="1")
    by_text = await say(client, runtime, line, contact_id="b", name="Bia", text="uma rosa", message_id="2")
    by_name = await say(client, runtime, line, contact_id="c", name="Rosana", text="bom dia", message_id="3")
    await say(client, runtime, line, contact_id="d", name="Caio", text="nada", message_id="4")
    resolved = await client.post(f"{API}/{by_text}/resolve", headers=world.admin.headers)
    assert resolved.status_code == 200, resolved.text
    headers = world.agent.headers
    newest_first = await listing(client, headers, q="rosa")
    assert sorted(newest_first) == sorted([both, by_text, by_name])

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "ROSA", "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(API, params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == newest_first
    assert set(await listing(client, headers, q="rosa", status="open")) == {both, by_name}
    assert await listing(client, headers, q="rosa", status="resolved") == [by_text]


async def test_newest_activity_first(client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line) -> None:
    first = await say(client, runtime, line, contact_id="a", text="one", message_id="1")
    second = await say(client, runtime, line, contact_id="b", text="two", message_id="2")
    third = await say(client, runtime, line, contact_id="c", text="three", message_id="3")
    assert await listing(client, world.agent.headers) == [third, second, first]

    await say(client, runtime, line, contact_id="a", text="again", message_id="4")
    assert await listing(client, world.agent.headers) == [first, third, second]
    reply = await client.post(f"{API}/{second}/messages", json={"text": "on it"}, headers=world.agent.headers)
    assert reply.status_code == 201
    assert await listing(client, world.agent.headers) == [second, first, third]


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], limit: int, between: Any = None) -> list[int]:
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(API, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        pages += 1
        assert pages < 50, "pagination does not terminate"
        if cursor is None:
            return seen
        if between is not None:
            await between(pages)


async def test_cursor_pagination_returns_each_conversation_once_while_new_ones_arrive(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    existing = [
        await say(client, runtime, line, contact_id=f"c{i}", text=f"m{i}", message_id=f"m{i}") for i in range(7)
    ]

    async def arrivals(page: int) -> None:
        await say(client, runtime, line, contact_id=f"new{page}", text="late", message_id=f"new{page}")

    seen = await _walk(client, world.agent.headers, 3, arrivals)
    assert seen == list(reversed(existing))


async def test_cursor_pagination_breaks_activity_ties_by_id(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    ids = [await say(client, runtime, line, contact_id=f"c{i}", text="x", message_id=f"m{i}") for i in range(5)]
    same_instant = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    async with runtime.db.transaction() as session:
        await session.execute(update(Conversation).values(last_activity_at=same_instant))

    seen = await _walk(client, world.agent.headers, 2)
    assert seen == sorted(ids, reverse=True)
    last = await client.get(API, params={"limit": 10}, headers=world.agent.headers)
    assert last.json()["next_cursor"] is None


# ---------------------------------------------------------------- detail and messages


async def test_conversation_detail(client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", name="Ana Lima", text="Olá!", message_id="1")
    data = await detail(client, world, conversation_id)
    assert data["id"] == conversation_id
    assert data["contact"]["name"] == "Ana Lima"
    assert data["channel"] == {"id": line.id, "kind": "api", "name": "Test API"}
    assert (data["status"], data["handler"], data["priority"], data["assignee"]) == ("open", "human", "none", None)
    assert data["last_message"]["preview"] == "Olá!"
    assert data["last_message"]["author_kind"] == "contact"
    assert data["unread_count"] == 1
    assert data["tags"] == []
    missing = await client.get(f"{API}/{conversation_id + 1000}", headers=world.admin.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_messages_are_chronological_with_cursor_to_older_pages_and_after(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = 0
    for i in range(5):
        conversation_id = await say(client, runtime, line, contact_id="a", text=f"m{i}", message_id=f"p{i}")
    url = f"{API}/{conversation_id}/messages"
    headers = world.agent.headers

    newest = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    assert [m["text"] for m in newest["items"]] == ["m3", "m4"]
    older = (await client.get(url, params={"limit": 2, "cursor": newest["next_cursor"]}, headers=headers)).json()
    assert [m["text"] for m in older["items"]] == ["m1", "m2"]
    oldest = (await client.get(url, params={"limit": 2, "cursor": older["next_cursor"]}, headers=headers)).json()
    assert [m["text"] for m in oldest["items"]] == ["m0"]
    assert oldest["next_cursor"] is None

    everything = (await client.get(url, headers=headers)).json()
    assert [m["text"] for m in everything["items"]] == [f"m{i}" for i in range(5)]
    assert everything["next_cursor"] is None
    after_second = everything["items"][1]["id"]
    caught_up = (await client.get(url, params={"after": after_second}, headers=headers)).json()
    assert [m["text"] for m in caught_up["items"]] == ["m2", "m3", "m4"]
    last = everything["items"][-1]["id"]
    assert (await client.get(url, params={"after": last}, headers=headers)).json()["items"] == []


async def test_messages_show_author_kind_and_operator(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    reply = await client.post(f"{API}/{conversation_id}/messages", json={"text": "hello"}, headers=world.agent.headers)
    assert reply.status_code == 201, reply.text
    items = (await client.get(f"{API}/{conversation_id}/messages", headers=world.admin.headers)).json()["items"]
    assert [(m["direction"], m["author_kind"], m["operator"]) for m in items] == [
        ("inbound", "contact", None),
        ("outbound", "operator", {"id": world.agent.id, "name": "Agent"}),
    ]


# ---------------------------------------------------------------- replies


async def test_json_reply_is_queued_with_an_outbox_row(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    before = await count(runtime, OutboxRow, OutboxRow.topic == "delivery.send")
    response = await client.post(
        f"{API}/{conversation_id}/messages", json={"text": "Posso ajudar?"}, headers=world.agent.headers
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["delivery_state"] == "queued"
    assert (message["text"], message["direction"], message["author_kind"]) == ("Posso ajudar?", "outbound", "operator")
    assert message["conversation_id"] == conversation_id
    assert await count(runtime, OutboxRow, OutboxRow.topic == "delivery.send") == before + 1
    async with runtime.db.sessions() as session:
        rows = (await session.execute(OutboxRow.__table__.select().where(OutboxRow.topic == "delivery.send"))).all()
    assert {"message_id": message["id"]} in [row.payload for row in rows]
    conversation = await detail(client, world, conversation_id)
    assert conversation["last_message"]["author_kind"] == "operator"
    assert conversation["unread_count"] == 0


async def test_multipart_reply_stores_attachments_that_can_be_downloaded(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    pdf = b"%PDF-1.4 fake pdf body " * 20
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    response = await client.post(
        f"{API}/{conversation_id}/messages",
        data={"text": "Seguem os documentos"},
        files=[("files", ("apolice.pdf", pdf, "application/pdf")), ("files", ("foto.png", png, "image/png"))],
        headers=world.agent.headers,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["delivery_state"] == "queued"
    assert message["text"] == "Seguem os documentos"
    attachments = message["attachments"]
    assert [(a["filename"], a["content_type"], a["size"], a["state"]) for a in attachments] == [
        ("apolice.pdf", "application/pdf", len(pdf), "stored"),
        ("foto.png", "image/png", len(png), "stored"),
    ]
    for attachment, expected in zip(attachments, (pdf, png), strict=True):
        download = await client.get(attachment["url"], headers=world.agent.headers)
        assert download.status_code == 200
        assert download.content == expected
    # Another agent who cannot see the channel cannot download it either.
    assert (await client.get(attachments[0]["url"], headers=world.outsider.headers)).status_code == 404
    listed = (await client.get(f"{API}/{conversation_id}/messages", headers=world.agent.headers)).json()["items"]
    assert [a["id"] for a in listed[-1]["attachments"]] == [a["id"] for a in attachments]


async def test_files_only_reply_is_accepted(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    response = await client.post(
        f"{API}/{conversation_id}/messages",
        files=[("files", ("notes.txt", b"some notes", "text/plain"))],
        headers=world.agent.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "attachment"
    assert (await detail(client, world, conversation_id))["last_message"]["preview"] == "[attachment] notes.txt"


async def test_empty_reply_is_refused(client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line) -> None:
    from helpline.conversations.models import Message

    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    url = f"{API}/{conversation_id}/messages"
    for body in ({"text": ""}, {"text": "   \n"}, {}):
        response = await client.post(url, json=body, headers=world.agent.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "empty_reply"
    form = await client.post(url, data={"text": " "}, files=[], headers=world.agent.headers)
    assert form.status_code == 422
    assert await count(runtime, Message, Message.conversation_id == conversation_id) == 1


# ---------------------------------------------------------------- takeover, handback, assign, status


async def test_takeover_makes_a_bot_conversation_mine_and_open(
    client: httpx.AsyncClient, world: World, runtime: Runtime, bot_line: Line
) -> None:
    conversation_id = await say(client, runtime, bot_line, contact_id="a", text="hi", message_id="1")
    before = await detail(client, world, conversation_id)
    assert (before["handler"], before["status"], before["assignee"]) == ("bot", "pending", None)

    response = await client.post(f"{API}/{conversation_id}/takeover", headers=world.agent.headers)
    assert response.status_code == 200, response.text
    after = response.json()
    assert (after["handler"], after["status"]) == ("human", "open")
    assert after["assignee"] == {"id": world.agent.id, "name": "Agent"}


async def test_takeover_moves_the_assignee_to_me(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    await client.post(
        f"{API}/{conversation_id}/assign", json={"operator_id": world.agent.id}, headers=world.admin.headers
    )
    response = await client.post(f"{API}/{conversation_id}/takeover", headers=world.supervisor.headers)
    assert response.json()["assignee"]["id"] == world.supervisor.id


async def test_handback_returns_the_conversation_to_the_bot(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    await client.post(f"{API}/{conversation_id}/takeover", headers=world.agent.headers)
    response = await client.post(f"{API}/{conversation_id}/handback", headers=world.agent.headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["handler"], data["status"], data["assignee"]) == ("bot", "pending", None)


async def test_handback_of_a_resolved_conversation_is_refused(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    await client.post(f"{API}/{conversation_id}/resolve", headers=world.agent.headers)
    response = await client.post(f"{API}/{conversation_id}/handback", headers=world.agent.headers)
    assert response.status_code == 409
    assert (await detail(client, world, conversation_id))["handler"] == "human"


async def test_assign_accepts_members_and_supervisors_and_refuses_non_members(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    url = f"{API}/{conversation_id}/assign"

    refused = await client.post(url, json={"operator_id": world.outsider.id}, headers=world.agent.headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "not_a_member"
    assert (await detail(client, world, conversation_id))["assignee"] is None

    unknown = await client.post(url, json={"operator_id": world.outsider.id + 1000}, headers=world.agent.headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_operator"

    to_agent = await client.post(url, json={"operator_id": world.agent.id}, headers=world.supervisor.headers)
    assert to_agent.status_code == 200
    assert to_agent.json()["assignee"]["id"] == world.agent.id
    to_supervisor = await client.post(url, json={"operator_id": world.supervisor.id}, headers=world.agent.headers)
    assert to_supervisor.json()["assignee"]["id"] == world.supervisor.id
    cleared = await client.post(url, json={"operator_id": None}, headers=world.agent.headers)
    assert cleared.status_code == 200
    assert cleared.json()["assignee"] is None


async def test_assign_refuses_a_deactivated_operator(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    off = await client.patch(
        f"/api/v1/operators/{world.supervisor.id}", json={"active": False}, headers=world.admin.headers
    )
    assert off.status_code == 200
    response = await client.post(
        f"{API}/{conversation_id}/assign", json={"operator_id": world.supervisor.id}, headers=world.admin.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_operator"


async def test_resolve_and_reopen(client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    resolved = await client.post(f"{API}/{conversation_id}/resolve", headers=world.agent.headers)
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    reopened = await client.post(f"{API}/{conversation_id}/reopen", headers=world.agent.headers)
    assert reopened.json()["status"] == "open"


async def test_reopen_of_a_bot_conversation_is_pending(
    client: httpx.AsyncClient, world: World, runtime: Runtime, bot_line: Line
) -> None:
    conversation_id = await say(client, runtime, bot_line, contact_id="a", text="hi", message_id="1")
    await client.post(f"{API}/{conversation_id}/resolve", headers=world.agent.headers)
    reopened = await client.post(f"{API}/{conversation_id}/reopen", headers=world.agent.headers)
    assert (reopened.json()["status"], reopened.json()["handler"]) == ("pending", "bot")


async def test_snooze_needs_a_future_time_with_a_time_zone(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    url = f"{API}/{conversation_id}/snooze"
    until = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)

    naive = await client.post(url, json={"until": until.replace(tzinfo=None).isoformat()}, headers=world.agent.headers)
    assert naive.status_code == 422
    past = await client.post(url, json={"until": "2020-01-01T09:00:00Z"}, headers=world.agent.headers)
    assert past.status_code == 422
    assert past.json()["error"]["code"] == "bad_snooze"
    assert (await detail(client, world, conversation_id))["status"] == "open"

    in_sao_paulo = until.astimezone(timezone_minus_3()).isoformat()
    snoozed = await client.post(url, json={"until": in_sao_paulo}, headers=world.agent.headers)
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["status"] == "snoozed"
    assert datetime.fromisoformat(snoozed.json()["snoozed_until"]) == until

    # The customer writing back wakes it up.
    await say(client, runtime, line, contact_id="a", text="still there?", message_id="2")
    woke = await detail(client, world, conversation_id)
    assert (woke["status"], woke["snoozed_until"]) == ("open", None)


def timezone_minus_3() -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=-3))


async def test_read_resets_unread_count(client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line) -> None:
    conversation_id = 0
    for i in range(3):
        conversation_id = await say(client, runtime, line, contact_id="a", text=f"m{i}", message_id=f"m{i}")
    assert (await detail(client, world, conversation_id))["unread_count"] == 3
    response = await client.post(f"{API}/{conversation_id}/read", headers=world.agent.headers)
    assert response.status_code == 200
    assert response.json()["unread_count"] == 0
    await say(client, runtime, line, contact_id="a", text="one more", message_id="m9")
    assert (await detail(client, world, conversation_id))["unread_count"] == 1


async def test_patch_sets_event_priority_and_tags(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    event = (await client.post("/api/v1/events", json={"name": "Rock Fest"}, headers=world.admin.headers)).json()
    url = f"{API}/{conversation_id}"

    response = await client.patch(
        url,
        json={"event_id": event["id"], "priority": "high", "tags": [" VIP ", "vip", "Billing", ""]},
        headers=world.agent.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["event"]["id"] == event["id"]
    assert data["event"]["name"] == "Rock Fest"
    assert data["priority"] == "high"
    assert data["tags"] == ["billing", "vip"]

    # Fields left out stay as they are; an explicit null clears the event.
    cleared = (await client.patch(url, json={"event_id": None}, headers=world.agent.headers)).json()
    assert (cleared["event"], cleared["priority"], cleared["tags"]) == (None, "high", ["billing", "vip"])
    unknown = await client.patch(url, json={"event_id": event["id"] + 1000}, headers=world.agent.headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_event"


async def test_patch_refuses_a_tag_too_long_instead_of_cutting_it(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    url = f"{API}/{conversation_id}"
    for tags in (["a" * 51], ["ok", "b" * 1000], [f"t{n}" for n in range(51)]):
        refused = await client.patch(url, json={"tags": tags}, headers=world.agent.headers)
        assert refused.status_code == 422, refused.text
        assert "tags" in refused.text
    # 50 characters once the surrounding spaces are gone is the limit, stored whole.
    kept = await client.patch(url, json={"tags": ["  " + "c" * 50 + "  "]}, headers=world.agent.headers)
    assert kept.status_code == 200, kept.text
    assert kept.json()["tags"] == ["c" * 50]
    assert (await detail(client, world, conversation_id))["tags"] == ["c" * 50]


# ---------------------------------------------------------------- audit and lifecycle


async def test_takeover_handback_and_assign_are_audited(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    conversation_id = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    await client.post(f"{API}/{conversation_id}/takeover", headers=world.agent.headers)
    await client.post(f"{API}/{conversation_id}/handback", headers=world.agent.headers)
    await client.post(
        f"{API}/{conversation_id}/assign", json={"operator_id": world.agent.id}, headers=world.supervisor.headers
    )

    params = {"target_type": "conversation", "target_id": conversation_id}
    assert (await client.get("/api/v1/audit", params=params, headers=world.agent.headers)).status_code == 403
    response = await client.get("/api/v1/audit", params=params, headers=world.supervisor.headers)
    assert response.status_code == 200, response.text
    entries = list(reversed(response.json()))
    assert [(e["action"], e["operator_id"]) for e in entries] == [
        ("conversation.takeover", world.agent.id),
        ("conversation.handback", world.agent.id),
        ("conversation.assigned", world.supervisor.id),
    ]
    assert entries[2]["details"] == {"from": None, "to": world.agent.id}
    assert all(e["target_id"] == conversation_id for e in entries)
    admin_view = await client.get(
        "/api/v1/audit", params={"action": "conversation.handback"}, headers=world.admin.headers
    )
    assert [e["target_id"] for e in admin_view.json()] == [conversation_id]


async def test_a_message_after_resolve_opens_a_new_conversation(
    client: httpx.AsyncClient, world: World, runtime: Runtime, line: Line
) -> None:
    first = await say(client, runtime, line, contact_id="a", text="hi", message_id="1")
    assert (await client.post(f"{API}/{first}/resolve", headers=world.agent.headers)).status_code == 200

    second = await say(client, runtime, line, contact_id="a", text="back again", message_id="2")
    assert second != first
    assert (await detail(client, world, first))["status"] == "resolved"
    new = await detail(client, world, second)
    assert (new["status"], new["contact"]["id"]) == ("open", (await detail(client, world, first))["contact"]["id"])
    messages = (await client.get(f"{API}/{second}/messages", headers=world.agent.headers)).json()["items"]
    assert [m["text"] for m in messages] == ["back again"]
    # Later messages join the new conversation, not the resolved one.
    assert await say(client, runtime, line, contact_id="a", text="and more", message_id="3") == second
