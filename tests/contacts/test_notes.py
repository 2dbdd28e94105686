"""Contact notes: who may read, add and delete them, their author and time, and merges carrying them over."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update

from helpline.audit.models import AuditEntry
from helpline.conversations.models import Conversation
from helpline.privacy.erasure import erase_contacts
from helpline.runtime import Runtime
from tests.conftest import Persona, World
from tests.contacts.test_contacts_api import _contact_id, _second_channel


def notes_url(contact_id: int) -> str:
    return f"/api/v1/contacts/{contact_id}/notes"


async def add(client: httpx.AsyncClient, persona: Persona, contact_id: int, text: str) -> dict[str, Any]:
    response = await client.post(notes_url(contact_id), json={"text": text}, headers=persona.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_notes_carry_author_and_time_newest_first(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    contact_id = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="x", name="Ana")
    first = await add(client, world.agent, contact_id, "Prefers e-mail. <script>alert(1)</script>")
    second = await add(client, world.supervisor, contact_id, "VIP since 2024")
    assert first["author"] == {"id": world.agent.id, "name": "Agent"}
    assert first["text"] == "Prefers e-mail. <script>alert(1)</script>"  # stored literally, escaped by the UI
    assert first["created_at"] <= second["created_at"]

    listed = await client.get(notes_url(contact_id), headers=world.agent.headers)
    assert listed.status_code == 200, listed.text
    assert [(n["id"], n["author"]["name"], n["text"]) for n in listed.json()] == [
        (second["id"], "Supervisor", "VIP since 2024"),
        (first["id"], "Agent", "Prefers e-mail. <script>alert(1)</script>"),
    ]
    async with runtime.db.sessions() as session:
        actions = list(
            (
                await session.execute(
                    select(AuditEntry.action).where(AuditEntry.target_type == "contact").order_by(AuditEntry.id)
                )
            ).scalars()
        )
    assert actions == ["contact.note_added", "contact.note_added"]


async def test_only_operators_who_see_the_contact_reach_its_notes(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    contact_id = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="x", name="Ana")
    note = await add(client, world.agent, contact_id, "private")
    # `outsider` is not a member of the contact's only channel: 404 for every note route, nothing written.
    for response in (
        await client.get(notes_url(contact_id), headers=world.outsider.headers),
        await client.post(notes_url(contact_id), json={"text": "sneaky"}, headers=world.outsider.headers),
        await client.delete(f"{notes_url(contact_id)}/{note['id']}", headers=world.outsider.headers),
    ):
        assert response.status_code == 404, response.text
    assert len((await client.get(notes_url(contact_id), headers=world.admin.headers)).json()) == 1

    # Once the contact has a conversation on the outsider's channel too, the outsider sees it and its notes.
    other_id, other_secret = await _second_channel(runtime, world)
    elsewhere = await _contact_id(client, world, other_id, other_secret, contact_id="y", name="Bia")
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Conversation).where(Conversation.contact_id == elsewhere).values(contact_id=contact_id)
        )
    shared = await client.get(notes_url(contact_id), headers=world.outsider.headers)
    assert [n["text"] for n in shared.json()] == ["private"]
    assert (await client.get(notes_url(contact_id + 1000), headers=world.admin.headers)).status_code == 404


async def test_delete_by_author_or_admin_only(client: httpx.AsyncClient, world: World) -> None:
    contact_id = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="x", name="Ana")
    agents = await add(client, world.agent, contact_id, "mine")
    supervisors = await add(client, world.supervisor, contact_id, "theirs")
    refused = await client.delete(f"{notes_url(contact_id)}/{supervisors['id']}", headers=world.agent.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert (
        await client.delete(f"{notes_url(contact_id)}/{agents['id']}", headers=world.agent.headers)
    ).status_code == 204
    assert (
        await client.delete(f"{notes_url(contact_id)}/{supervisors['id']}", headers=world.admin.headers)
    ).status_code == 204
    assert (await client.get(notes_url(contact_id), headers=world.admin.headers)).json() == []
    gone = await client.delete(f"{notes_url(contact_id)}/{agents['id']}", headers=world.agent.headers)
    assert gone.status_code == 404


async def test_a_note_of_another_contact_is_not_found_through_this_one(client: httpx.AsyncClient, world: World) -> None:
    ana = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="x", name="Ana")
    bia = await _contact_id(
        client, world, world.channel_id, world.channel_secret, contact_id="y", name="Bia", message_id="m-2"
    )
    note = await add(client, world.agent, ana, "about Ana")
    assert (await client.delete(f"{notes_url(bia)}/{note['id']}", headers=world.admin.headers)).status_code == 404
    assert len((await client.get(notes_url(ana), headers=world.admin.headers)).json()) == 1


async def test_bad_notes_are_refused(client: httpx.AsyncClient, world: World) -> None:
    contact_id = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="x", name="Ana")
    for body in ({"text": ""}, {"text": "   \n "}, {"text": "x" * 5001}, {}, {"text": 5}):
        response = await client.post(notes_url(contact_id), json=body, headers=world.agent.headers)
        assert response.status_code == 422, body
    assert (await add(client, world.agent, contact_id, "y" * 5000))["text"] == "y" * 5000


async def test_merge_moves_the_notes(client: httpx.AsyncClient, world: World) -> None:
    keep = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="x", name="Ana")
    merge = await _contact_id(
        client, world, world.channel_id, world.channel_secret, contact_id="y", name="Ana S.", message_id="m-2"
    )
    await add(client, world.agent, keep, "kept")
    await add(client, world.agent, merge, "moved")
    merged = await client.post(
        f"/api/v1/contacts/{keep}/merge", json={"merge_contact_id": merge}, headers=world.supervisor.headers
    )
    assert merged.status_code == 200, merged.text
    assert [n["text"] for n in (await client.get(notes_url(keep), headers=world.agent.headers)).json()] == [
        "moved",
        "kept",
    ]


async def test_erasing_a_contact_deletes_its_notes_only(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    ana = await _contact_id(client, world, world.channel_id, world.channel_secret, contact_id="x", name="Ana")
    bia = await _contact_id(
        client, world, world.channel_id, world.channel_secret, contact_id="y", name="Bia", message_id="m-2"
    )
    await add(client, world.agent, ana, "Ana's address is …")
    await add(client, world.agent, bia, "Bia prefers mornings")
    async with runtime.db.transaction() as session:
        await erase_contacts(session, [ana])
    assert (await client.get(notes_url(ana), headers=world.admin.headers)).json() == []
    assert [n["text"] for n in (await client.get(notes_url(bia), headers=world.admin.headers)).json()] == [
        "Bia prefers mornings"
    ]
