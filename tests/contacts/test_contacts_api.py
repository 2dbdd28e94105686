"""Contacts: read, correct, identities, explicit merges (supervisors), and what agents may see."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpline.audit.models import AuditEntry
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.runtime import Runtime
from tests.conftest import World
from tests.support import post_inbound, signed_inbound


async def _contact_id(
    client: httpx.AsyncClient, world: World, channel_id: int, secret: str, *, email: str | None = None, **kw: Any
) -> int:
    if email is None:
        response = await post_inbound(client, channel_id, secret, **kw)
    else:
        body, headers = signed_inbound(
            secret,
            {
                "contact": {"id": kw["contact_id"], "name": kw["name"], "email": email},
                "message": {"id": kw.get("message_id", "m-1"), "text": "hello"},
            },
        )
        response = await client.post(f"/api/v1/channels/{channel_id}/inbound", content=body, headers=headers)
    assert response.status_code == 200, response.text
    listing = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    (conversation,) = [c for c in listing if c["channel"]["id"] == channel_id and c["contact"]["name"] == kw["name"]]
    contact_id: int = conversation["contact"]["id"]
    return contact_id


async def _second_channel(runtime: Runtime, world: World) -> tuple[int, str]:
    """A channel only `outsider` is a member of."""
    async with runtime.db.transaction() as session:
        channel, reveal = await create_channel(
            session,
            ChannelCreate(kind="api", name="Other", settings={"bot_enabled": False}, member_ids=[world.outsider.id]),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    return channel.id, str(reveal["secret"])


async def test_get_update_and_identities(client: httpx.AsyncClient, world: World) -> None:
    contact_id = await _contact_id(
        client, world, world.channel_id, world.channel_secret, contact_id="ext-1", name="Ana"
    )
    got = await client.get(f"/api/v1/contacts/{contact_id}", headers=world.agent.headers)
    assert got.status_code == 200
    assert got.json()["name"] == "Ana"
    assert got.json()["merged_into_id"] is None

    patched = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"name": "Ana Souza", "email": "ana@example.com", "attributes": {"vip": True}},
        headers=world.agent.headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["email"], patched.json()["attributes"]) == (
        "Ana Souza",
        "ana@example.com",
        {"vip": True},
    )
    # A later message with the old name does not overwrite the operator's correction.
    await post_inbound(client, world.channel_id, world.channel_secret, contact_id="ext-1", name="Ana", message_id="m-2")
    assert (await client.get(f"/api/v1/contacts/{contact_id}", headers=world.agent.headers)).json()[
        "name"
    ] == "Ana Souza"

    identities = await client.get(f"/api/v1/contacts/{contact_id}/identities", headers=world.agent.headers)
    assert identities.status_code == 200
    assert [(i["kind"], i["provider_id"]) for i in identities.json()] == [(f"api:{world.channel_id}", "ext-1")]


async def test_agents_see_only_contacts_of_their_channels(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    mine = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="a", name="Mine")
    other_channel, other_secret = await _second_channel(runtime, world)
    theirs = await _contact_id(client, world, other_channel, other_secret, contact_id="b", name="Theirs")

    for path in (f"/api/v1/contacts/{theirs}", f"/api/v1/contacts/{theirs}/identities"):
        assert (await client.get(path, headers=world.agent.headers)).status_code == 404
    denied = await client.patch(f"/api/v1/contacts/{theirs}", json={"name": "x"}, headers=world.agent.headers)
    assert denied.status_code == 404
    assert (await client.get(f"/api/v1/contacts/{mine}", headers=world.outsider.headers)).status_code == 404
    assert (await client.get(f"/api/v1/contacts/{theirs}", headers=world.outsider.headers)).status_code == 200

    agent_list = (await client.get("/api/v1/contacts", headers=world.agent.headers)).json()
    assert [c["id"] for c in agent_list["items"]] == [mine]
    for persona in (world.supervisor, world.admin):
        everyone = (await client.get("/api/v1/contacts", headers=persona.headers)).json()
        assert sorted(c["id"] for c in everyone["items"]) == sorted([mine, theirs])
    assert (await client.get("/api/v1/contacts/999999", headers=world.admin.headers)).status_code == 404


async def test_list_with_q_and_cursor(client: httpx.AsyncClient, world: World) -> None:
    ids = {}
    for n, name in enumerate(["Maria Silva", "João Pereira", "Mariana Costa"]):
        ids[name] = await _contact_id(
            client, world, world.channel_id, world.channel_secret, contact_id=f"c{n}", name=name, message_id=f"m{n}"
        )
    found = (await client.get("/api/v1/contacts", params={"q": "MARIA"}, headers=world.agent.headers)).json()
    assert sorted(c["name"] for c in found["items"]) == ["Maria Silva", "Mariana Costa"]
    assert (await client.get("/api/v1/contacts", params={"q": "zzz"}, headers=world.agent.headers)).json()[
        "items"
    ] == []
    # Wildcards in q are literal text, not patterns: nobody's name has a % or an _ in it.
    for wildcard in ("%", "_", "Mari_", "%a%", "\\"):
        got = await client.get("/api/v1/contacts", params={"q": wildcard}, headers=world.agent.headers)
        assert got.status_code == 200 and got.json()["items"] == [], (wildcard, got.text)

    first = (await client.get("/api/v1/contacts", params={"limit": 2}, headers=world.agent.headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await client.get(
            "/api/v1/contacts", params={"limit": 2, "cursor": first["next_cursor"]}, headers=world.agent.headers
        )
    ).json()
    assert rest["next_cursor"] is None
    assert sorted(c["id"] for c in first["items"] + rest["items"]) == sorted(ids.values())
    bad = await client.get("/api/v1/contacts", params={"cursor": "abc"}, headers=world.agent.headers)
    assert bad.status_code == 422


async def test_same_details_on_two_identities_are_never_merged_automatically(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    first = await _contact_id(
        client, world, world.channel_id, world.channel_secret, contact_id="x-1", name="Ana", email="ana@example.com"
    )
    other_channel, other_secret = await _second_channel(runtime, world)
    second = await _contact_id(
        client, world, other_channel, other_secret, contact_id="x-1", name="Ana", email="ana@example.com"
    )
    assert first != second
    for contact_id in (first, second):
        got = (await client.get(f"/api/v1/contacts/{contact_id}", headers=world.admin.headers)).json()
        assert got["email"] == "ana@example.com"
    listing = (await client.get("/api/v1/contacts", params={"q": "ana"}, headers=world.admin.headers)).json()
    assert len(listing["items"]) == 2


@pytest.mark.parametrize("persona", ["supervisor", "admin"])
async def test_explicit_merge_moves_identities_and_conversations(
    client: httpx.AsyncClient, world: World, runtime: Runtime, persona: str
) -> None:
    keep = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="k", name="Keep")
    other_channel, other_secret = await _second_channel(runtime, world)
    merge = await _contact_id(client, world, other_channel, other_secret, contact_id="m", name="Merge")
    phone = await client.patch(f"/api/v1/contacts/{merge}", json={"phone": "+351 1"}, headers=world.admin.headers)
    assert phone.status_code == 200
    actor = getattr(world, persona)

    response = await client.post(
        f"/api/v1/contacts/{keep}/merge", json={"merge_contact_id": merge}, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == keep
    assert response.json()["phone"] == "+351 1"  # filled in from the merged contact

    identities = (await client.get(f"/api/v1/contacts/{keep}/identities", headers=world.admin.headers)).json()
    assert sorted((i["kind"], i["provider_id"]) for i in identities) == sorted(
        [(f"api:{world.channel_id}", "k"), (f"api:{other_channel}", "m")]
    )
    tombstone = (await client.get(f"/api/v1/contacts/{merge}", headers=world.admin.headers)).json()
    assert tombstone["merged_into_id"] == keep
    listing = (await client.get("/api/v1/contacts", headers=world.admin.headers)).json()
    assert [c["id"] for c in listing["items"]] == [keep]
    conversations = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    assert {c["contact"]["id"] for c in conversations} == {keep}

    # A new message on the merged identity lands on the kept contact.
    await post_inbound(client, other_channel, other_secret, contact_id="m", name="Merge", message_id="later")
    conversations = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    assert {c["contact"]["id"] for c in conversations} == {keep}

    async with runtime.db.sessions() as session:
        entries = list(
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "contact.merged"))).scalars()
        )
    assert len(entries) == 1
    (entry,) = entries
    assert (entry.operator_id, entry.target_type, entry.target_id) == (actor.id, "contact", keep)
    assert entry.details["merged_contact_id"] == merge
    assert entry.details["identities_moved"] == 1
    assert entry.details["conversations_moved"] == 1

    again = await client.post(f"/api/v1/contacts/{keep}/merge", json={"merge_contact_id": merge}, headers=actor.headers)
    assert again.status_code == 404


async def test_merge_needs_a_supervisor(client: httpx.AsyncClient, world: World) -> None:
    a = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="a", name="A")
    b = await _contact_id(
        client, world, world.channel_id, world.channel_secret, contact_id="b", name="B", message_id="m-b"
    )
    for persona in (world.agent, world.outsider):
        response = await client.post(
            f"/api/v1/contacts/{a}/merge", json={"merge_contact_id": b}, headers=persona.headers
        )
        assert response.status_code == 403
    assert (await client.get(f"/api/v1/contacts/{b}", headers=world.admin.headers)).json()["merged_into_id"] is None
    itself = await client.post(
        f"/api/v1/contacts/{a}/merge", json={"merge_contact_id": a}, headers=world.supervisor.headers
    )
    assert itself.status_code == 422


async def test_a_customer_without_a_name_is_never_named_after_their_provider_id(
    client: httpx.AsyncClient, world: World
) -> None:
    # The generic API channel lets the sender leave the name out, as Messenger, Instagram and the widget do.
    body, headers = signed_inbound(
        world.channel_secret, {"contact": {"id": "opaque-7f3a"}, "message": {"id": "m-anon", "text": "hi"}}
    )
    response = await client.post(f"/api/v1/channels/{world.channel_id}/inbound", content=body, headers=headers)
    assert response.status_code == 200, response.text
    (conversation,) = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    assert conversation["contact"]["name"] is None  # the operator app shows "Customer #<id>"
    identities = await client.get(
        f"/api/v1/contacts/{conversation['contact']['id']}/identities", headers=world.admin.headers
    )
    assert [i["provider_id"] for i in identities.json()] == ["opaque-7f3a"]  # the id is kept where it belongs
