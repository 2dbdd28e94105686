"""Meta's data-deletion and deauthorize callbacks: signature checks, real erasure, status page, audit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from helpline.attachments.models import Attachment
from helpline.audit.models import AuditEntry
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.contacts.models import Contact, ContactIdentity
from helpline.conversations.models import Conversation, Message
from helpline.privacy.models import DeletionRequest
from helpline.privacy.signed_request import make_signed_request
from helpline.runtime import Runtime
from tests.privacy.conftest import META_APP_SECRET

PSID = "6543210987654321"

# The first bytes of a JFIF file: a declared image type is checked against the bytes.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"


def payload(user_id: str = PSID, **extra: Any) -> dict[str, Any]:
    return {
        "algorithm": "HMAC-SHA256",
        "expires": 1_900_000_000,
        "issued_at": 1_800_000_000,
        "user_id": user_id,
        **extra,
    }


async def seed_person(
    runtime: Runtime, provider_id: str, name: str, data: bytes, kind: str = "messenger"
) -> tuple[int, int]:
    """A contact with a Messenger identity, a conversation, an inbound and an outbound message, a stored file."""
    blob = runtime.blobs.put(JPEG + data, "image/jpeg")
    async with runtime.db.transaction() as session:
        channel, _ = await create_channel(
            session,
            ChannelCreate(kind="api", name=f"ch-{provider_id}"),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
        contact = Contact(
            name=name,
            email=f"{provider_id}@example.com",
            phone="+5511999990000",
            avatar_url="https://cdn.example/a.jpg",
            attributes={"city": "São Paulo"},
        )
        session.add(contact)
        await session.flush()
        session.add(ContactIdentity(contact_id=contact.id, kind=kind, provider_id=provider_id))
        now = datetime.now(UTC)
        conversation = Conversation(
            channel_id=channel.id,
            contact_id=contact.id,
            last_activity_at=now,
            last_message_preview="my policy is AUT-2291-7",
        )
        session.add(conversation)
        await session.flush()
        inbound = Message(
            conversation_id=conversation.id,
            channel_id=channel.id,
            direction="inbound",
            author_kind="contact",
            text="my policy is AUT-2291-7",
            content={"raw": "x"},
            provider_message_id=f"m_{provider_id}",
            delivery_state="received",
        )
        outbound = Message(
            conversation_id=conversation.id,
            channel_id=channel.id,
            direction="outbound",
            author_kind="operator",
            text=f"Thanks {name}!",
            delivery_state="sent",
        )
        session.add_all([inbound, outbound])
        await session.flush()
        session.add(
            Attachment(
                message_id=inbound.id,
                filename="car.jpg",
                content_type="image/jpeg",
                size=blob.size,
                sha256=blob.sha256,
                storage_key=blob.storage_key,
            )
        )
        return contact.id, conversation.id


async def test_valid_request_erases_that_person_only(runtime: Runtime, client: httpx.AsyncClient) -> None:
    # Identity kinds as the adapters write them: scoped to the channel.
    victim, victim_conversation = await seed_person(runtime, PSID, "Ana Souza", b"ana's car", kind="instagram:7")
    other, other_conversation = await seed_person(runtime, "1111", "João Pereira", b"joao's car", "messenger:3")
    # The same id under a WhatsApp identity is not Meta's app-scoped user: left alone.
    await seed_person(runtime, PSID, "Not Ana", b"other", kind="whatsapp")
    blob_path = runtime.blobs.path(runtime.blobs.put(JPEG + b"ana's car", "image/jpeg").storage_key)

    response = await client.post(
        "/meta/data-deletion", data={"signed_request": make_signed_request(payload(), META_APP_SECRET)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    code = body["confirmation_code"]
    assert code.isalnum() and body["url"] == f"http://testserver/meta/data-deletion/status/{code}"

    async with runtime.db.sessions() as session:
        contact = await session.get(Contact, victim)
        assert contact is not None
        assert (contact.name, contact.email, contact.phone, contact.avatar_url) == (None, None, None, None)
        assert contact.attributes == {"erased": True}
        assert not (await session.execute(select(ContactIdentity).where(ContactIdentity.contact_id == victim))).all()
        texts = (
            await session.execute(
                select(Message.text, Message.content).where(Message.conversation_id == victim_conversation)
            )
        ).all()
        assert texts and all(t is None and c == {"erased": True} for t, c in texts)
        conversation = await session.get(Conversation, victim_conversation)
        assert conversation is not None and conversation.last_message_preview is None
        assert (
            await session.scalar(
                select(func.count())
                .select_from(Attachment)
                .join(Message, Message.id == Attachment.message_id)
                .where(Message.conversation_id == victim_conversation)
            )
            == 0
        )
        # The other person is untouched.
        kept = await session.get(Contact, other)
        assert kept is not None and kept.name == "João Pereira"
        other_texts = (
            (await session.execute(select(Message.text).where(Message.conversation_id == other_conversation)))
            .scalars()
            .all()
        )
        assert "my policy is AUT-2291-7" in other_texts
        # The audit entry records the request without personal data.
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "privacy.data_deletion"))
        ).scalar_one()
        dumped = json.dumps(entry.details)
        assert PSID not in dumped and "Ana" not in dumped and entry.details["messages"] == 2
        request = (await session.execute(select(DeletionRequest))).scalar_one()
        assert request.status == "completed" and PSID not in request.subject_digest
    assert not blob_path.exists()

    status = await client.get(f"/meta/data-deletion/status/{code}")
    assert status.status_code == 200 and code in status.text and "completed" in status.text


async def test_unknown_user_is_answered_with_no_data(runtime: Runtime, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/meta/data-deletion", data={"signed_request": make_signed_request(payload("999"), META_APP_SECRET)}
    )
    assert response.status_code == 200
    page = await client.get(response.json()["url"].removeprefix("http://testserver"))
    assert "no_data" in page.text


async def test_forged_and_wrong_algorithm_requests_are_rejected(runtime: Runtime, client: httpx.AsyncClient) -> None:
    await seed_person(runtime, PSID, "Ana Souza", b"ana")
    forged = make_signed_request(payload(), "not-the-app-secret")
    wrong_algorithm = make_signed_request(payload(algorithm="HMAC-SHA1"), META_APP_SECRET)
    sig, _, encoded = make_signed_request(payload(), META_APP_SECRET).partition(".")
    tampered_payload = base64.urlsafe_b64encode(json.dumps(payload("1")).encode()).rstrip(b"=").decode()
    for value in (forged, wrong_algorithm, f"{sig}.{tampered_payload}", "garbage", "a.b", f".{encoded}"):
        response = await client.post("/meta/data-deletion", data={"signed_request": value})
        assert response.status_code == 403, (value, response.text)
        assert response.json()["error"]["code"] == "bad_signed_request"
    assert (await client.post("/meta/data-deletion", data={})).status_code == 422
    async with runtime.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeletionRequest)) == 0
        assert (await session.execute(select(Contact.name))).scalar_one() == "Ana Souza"


async def test_signature_is_over_the_encoded_payload(runtime: Runtime, client: httpx.AsyncClient) -> None:
    """Meta's HMAC covers the base64url text, not the decoded JSON; padding is stripped."""
    encoded = base64.urlsafe_b64encode(json.dumps(payload()).encode()).rstrip(b"=").decode()
    signature = hmac.new(META_APP_SECRET.encode(), encoded.encode(), hashlib.sha256).digest()
    value = base64.urlsafe_b64encode(signature).rstrip(b"=").decode() + "." + encoded
    assert (await client.post("/meta/data-deletion", data={"signed_request": value})).status_code == 200


async def test_deauthorize_is_recorded(runtime: Runtime, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/meta/deauthorize", data={"signed_request": make_signed_request(payload(), META_APP_SECRET)}
    )
    assert response.status_code == 200 and response.json() == {"success": True}
    forged = await client.post("/meta/deauthorize", data={"signed_request": make_signed_request(payload(), "x")})
    assert forged.status_code == 403
    async with runtime.db.sessions() as session:
        request = (await session.execute(select(DeletionRequest))).scalar_one()
        assert request.kind == "deauthorize" and request.status == "recorded"
    # A deauthorisation has no public status page.
    assert (await client.get(f"/meta/data-deletion/status/{request.confirmation_code}")).status_code == 404


async def test_status_page_escapes_and_404s(client: httpx.AsyncClient) -> None:
    response = await client.get("/meta/data-deletion/status/<script>alert(1)</script>")
    assert response.status_code == 404 and "<script>" not in response.text
    instructions = await client.get("/meta/data-deletion")
    assert instructions.status_code == 200 and "Segurozinho &lt;Seguros&gt;" in instructions.text
