"""A Messenger customer arrives as a PSID; Helpline asks Graph's user profile once and the contact gets the
person's name. A withheld profile leaves the contact unnamed; an operator's naming in between wins."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from helpline.contacts.models import Contact
from helpline.contacts.profiles import PROFILE_TOPIC, make_profile_handler
from helpline.platform.clock import utcnow
from helpline.platform.outbox import OutboxRow
from helpline.platform.worker import Job
from helpline.runtime import Runtime
from tests.channels.meta_support import PSID, fixture, fresh, graph_error, graph_reply, meta_world, post_webhook
from tests.conftest import drain
from tests.platform.fake_peer import Peer


async def _profiles_due(runtime: Runtime) -> None:
    """The profile look-up waits a few seconds after the message (contacts/profiles.py): make it due now."""
    async with runtime.db.transaction() as session:
        await session.execute(update(OutboxRow).where(OutboxRow.topic == PROFILE_TOPIC).values(available_at=utcnow()))
    await drain(runtime)


async def _contact(runtime: Runtime) -> Contact:
    async with runtime.db.reads() as session:
        return (await session.execute(select(Contact))).scalar_one()


async def test_a_new_messenger_contact_gets_the_profile_name(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    await meta_world(runtime, client, "messenger")
    peer.script = [graph_reply({"first_name": "Sheena", "last_name": "Nelson", "id": PSID})]
    assert (await post_webhook(client, fresh(fixture("messenger", "text")))).status_code == 200
    await drain(runtime)
    assert (await _contact(runtime)).name is None  # the message's own work first
    await _profiles_due(runtime)
    assert (await _contact(runtime)).name == "Sheena Nelson"
    [asked] = peer.requests
    assert asked.method == "GET" and asked.url.path.endswith(f"/{PSID}")
    assert asked.url.params["fields"] == "first_name,last_name"
    # Later messages of the same person ask nothing more.
    later = fresh(fixture("messenger", "text"))
    later["entry"][0]["messaging"][0]["message"]["mid"] = "m_LATER"
    await post_webhook(client, later)
    await _profiles_due(runtime)
    assert len(peer.requests) == 1


async def test_a_withheld_profile_leaves_no_name_and_an_operator_naming_wins(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "messenger")
    peer.script = [graph_error(230, "(#230) Requires pages_messaging permission to manage the object")]
    await post_webhook(client, fresh(fixture("messenger", "text")))
    await _profiles_due(runtime)
    assert (await _contact(runtime)).name is None

    # An operator names the contact before the profile answer is applied: the operator's name stays.
    async with runtime.db.transaction() as session:
        await session.execute(update(Contact).values(name="Cliente do balcão"))
    contact = await _contact(runtime)
    peer.script = [graph_reply({"first_name": "Sheena", "last_name": "Nelson", "id": PSID})]
    payload = {"channel_id": mw.channel_id, "contact_id": contact.id, "provider_id": PSID}
    await make_profile_handler(runtime)(Job(id=1, payload=payload, attempt=1, last_attempt=True))
    assert (await _contact(runtime)).name == "Cliente do balcão"
