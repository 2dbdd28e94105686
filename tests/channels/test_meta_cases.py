"""The real-world Meta cases of ../shared/cases (copied to tests/channels/cases) and the other members of their kinds.

Each case file is posted exactly as Meta sends it (signed raw bytes); SQLite and PostgreSQL both run.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from helpline.attachments.models import Attachment
from helpline.channels.models import Channel
from helpline.contacts.profiles import PROFILE_TOPIC
from helpline.conversations.customer_changes import DELETED_PREVIEW, EARLY_CHANGE_DAYS, EARLY_CHANGE_TOPIC, keep_early
from helpline.conversations.models import EarlyChange, Message
from helpline.platform.clock import utcnow
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from helpline.settings import Settings
from helpline.webhooks.models import WebhookDelivery
from tests.channels.meta_support import (
    messages_of,
    meta_settings,
    meta_world,
    only_conversation,
    post_webhook,
    wa_text,
)
from tests.conftest import drain
from tests.platform.fake_peer import Peer

CASES = Path(__file__).parent / "cases"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    result: Settings = meta_settings(tmp_path, db_url)
    return result


CASE_PAGE_ID = "1122334455"  # the Messenger page the case files address


def case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text())
    return data


def case_bytes(name: str) -> bytes:
    """The file's bytes as they are: `\\ud83d` stays an escape, exactly as Meta signs it."""
    return (CASES / f"{name}.json").read_bytes().strip()


async def message_count(runtime: Runtime) -> int:
    async with runtime.db.reads() as session:
        return int((await session.execute(select(func.count()).select_from(Message))).scalar_one())


# ---------------------------------------------------------------- a value the database cannot store


async def test_batch_with_a_broken_emoji_stores_all_three_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    body = case_bytes("whatsapp-batch-broken-emoji")
    assert b"\\ud83d end" in body
    response = await post_webhook(client, body)
    assert response.status_code == 200, response.text
    assert response.json()["failed"] == 0
    conversations = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    texts = {}
    for conversation in conversations:
        [message] = await messages_of(client, world, conversation["id"])
        texts[conversation["contact"]["name"]] = message["text"]
    assert texts == {
        "Batch One": "first customer, fine",
        "Batch Two": "broken emoji \ufffd end",
        "Batch Three": "third customer, fine",
    }
    again = await post_webhook(client, body)
    assert again.status_code == 200 and await message_count(runtime) == 3


async def test_non_json_numbers_in_one_message_do_not_lose_its_sibling(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """`NaN` / `Infinity` are not JSON (RFC 8259 §6) but Python's parser takes them, and PostgreSQL's json type
    then refuses the stored event; the value is kept as its literal text so the delivery is stored whole."""
    await meta_world(runtime, client, "whatsapp")
    payload = wa_text("wamid.sibling-after-infinity", "sibling")
    value = payload["entry"][0]["changes"][0]["value"]
    odd = copy.deepcopy(value["messages"][0])
    odd.update(id="wamid.with-infinity", type="image", image={"id": "MEDIA", "sha256": "NAN"})
    odd.pop("text")
    value["messages"] = [odd, value["messages"][0]]
    body = json.dumps(payload).replace('"MEDIA"', "Infinity").replace('"NAN"', "-Infinity").encode()
    assert b"Infinity" in body
    response = await post_webhook(client, body)
    assert response.status_code == 200, response.text
    await drain(runtime)
    async with runtime.db.reads() as session:
        ids = set((await session.execute(select(Message.provider_message_id))).scalars())
    assert "wamid.sibling-after-infinity" in ids


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        ("name", "\\udc00Lone low"),
        ("name", "nul\\u0000name"),
        ("caption", "caption \\ud83d"),
        ("filename", "report\\u0000.pdf"),
        ("text", "\\u0000"),
        ("text", "\\udfff\\ud800"),
    ],
)
async def test_unstorable_characters_in_any_field_are_replaced(
    client: httpx.AsyncClient, runtime: Runtime, where: str, bad: str
) -> None:
    """Names, captions, file names and texts: a lone surrogate becomes U+FFFD, a NUL is removed, the rest is kept."""
    world = await meta_world(runtime, client, "whatsapp")
    payload = case("whatsapp-batch-broken-emoji")
    value = payload["entry"][0]["changes"][0]["value"]
    first = value["messages"][0]
    if where == "name":
        value["contacts"][0]["profile"]["name"] = "@@BAD@@"
    elif where == "text":
        first["text"]["body"] = "@@BAD@@"
    else:
        first.update(
            type="document",
            document={"id": "77001", "mime_type": "application/pdf", "sha256": "x", where: "@@BAD@@"},
        )
        if where == "caption":
            first["document"]["filename"] = "ok.pdf"
    body = json.dumps(payload, ensure_ascii=True).replace("@@BAD@@", bad).encode()
    response = await post_webhook(client, body)
    assert response.status_code == 200, response.text
    assert await message_count(runtime) == 3
    async with runtime.db.reads() as session:
        rows = list((await session.execute(select(Message).order_by(Message.id))).scalars())
        files = list((await session.execute(select(Attachment))).scalars())
    stored = json.dumps([r.text for r in rows] + [f.filename for f in files], ensure_ascii=False)
    assert "\x00" not in stored and not any(0xD800 <= ord(c) <= 0xDFFF for c in stored)
    conversations = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    assert len(conversations) == 3
    if where == "name":
        names = {c["contact"]["name"] for c in conversations}
        assert names - {"Batch Two", "Batch Three"} == {bad.replace("\\udc00", "\ufffd").replace("\\u0000", "")}


async def test_nul_in_query_parameters_and_json_bodies_is_cleaned(client: httpx.AsyncClient, runtime: Runtime) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    listed = await client.get("/api/v1/contacts", params={"q": "a\x00b"}, headers=world.admin.headers)
    assert listed.status_code == 200, listed.text
    created = await client.post(
        "/api/v1/contacts",
        content=b'{"name": "Ana \\ud83d \\u0000 Silva"}',
        headers={**world.admin.headers, "Content-Type": "application/json"},
    )
    assert created.status_code < 500, created.text
    if created.status_code in (200, 201):
        assert created.json()["name"] == "Ana \ufffd \ufffd Silva"


# ---------------------------------------------------------------- one bad event never loses its siblings


async def test_an_event_that_fails_is_parked_with_its_error_and_its_siblings_are_kept(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    from helpline.conversations import ingest

    real = ingest.receive_inbound

    async def flaky(session: Any, *, channel: Any, inbound: Any, blobs: Any, **options: Any) -> Any:
        if inbound.provider_message_id.startswith("wamid.HBgL722"):
            raise RuntimeError("simulated bug for the second message")
        return await real(session, channel=channel, inbound=inbound, blobs=blobs, **options)

    monkeypatch.setattr(ingest, "receive_inbound", flaky)
    response = await post_webhook(client, case_bytes("whatsapp-batch-broken-emoji"))
    assert response.status_code == 200, response.text
    assert (response.json()["events"], response.json()["failed"]) == (2, 1)
    assert await message_count(runtime) == 2

    failures = (await client.get("/api/v1/ingest/failures", headers=world.admin.headers)).json()["items"]
    assert len(failures) == 1
    assert failures[0]["event_type"] == "InboundMessage" and "simulated bug" in failures[0]["error"]
    assert failures[0]["status"] == "pending"
    metrics = (await client.get("/metrics")).text
    assert 'helpline_ingest_failures_total{channel_kind="whatsapp"} 1.0' in metrics

    # Once the cause is gone, the worker stores the parked event: nothing was lost.
    monkeypatch.setattr(ingest, "receive_inbound", real)
    async with runtime.db.transaction() as session:
        row = await session.get(OutboxRow, failures[0]["id"])
        assert row is not None
        row.available_at = row.created_at
    await drain(runtime)
    assert await message_count(runtime) == 3
    assert (await client.get("/api/v1/ingest/failures", headers=world.admin.headers)).json()["items"] == []


# ---------------------------------------------------------------- every type readable, its data kept


async def test_flow_reply_keeps_the_answers_and_reads_them(client: httpx.AsyncClient, runtime: Runtime) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    response = await post_webhook(client, case_bytes("whatsapp-flow-reply"))
    assert response.status_code == 200, response.text
    conversation = await only_conversation(client, world)
    [message] = await messages_of(client, world, conversation["id"])
    assert message["text"] == "📝 Form submitted\nRating: 0_Excelente\nComments: Atendimento muito bom"
    flow = message["content"]["interactive"]
    assert flow["type"] == "nfm_reply"
    assert flow["response"] == {
        "screen_0_Rating_0": "0_Excelente",
        "screen_0_Comments_1": "Atendimento muito bom",
        "flow_token": "flow-tok-7781",
    }
    assert conversation["last_message"]["preview"].startswith("📝 Form submitted")


def _wa_message(payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(payload)
    value = result["entry"][0]["changes"][0]["value"]
    value["messages"] = [{"from": "5511987650003", "id": message.pop("id"), "timestamp": "1795993188", **message}]
    return result


@pytest.mark.parametrize(
    ("message", "preview"),
    [
        ({"id": "wamid.ST1", "type": "sticker", "sticker": {"id": "9001", "mime_type": "image/webp"}}, "[sticker]"),
        ({"id": "wamid.AU1", "type": "audio", "audio": {"id": "9002", "voice": True}}, "[voice message]"),
        (
            {"id": "wamid.OR1", "type": "order", "order": {"catalog_id": "c1", "product_items": [{"quantity": 2}]}},
            "🛒 Order of 1 item",
        ),
        ({"id": "wamid.UN1", "type": "unsupported", "unsupported": {"type": "poll"}}, "[unsupported message: poll]"),
        ({"id": "wamid.NEW1", "type": "hologram", "hologram": {"id": "h"}}, "[hologram message]"),
        ({"id": "wamid.WE1", "type": "request_welcome"}, "[opened the chat]"),
    ],
)
async def test_every_whatsapp_type_has_a_preview_and_keeps_its_data(
    client: httpx.AsyncClient, runtime: Runtime, message: dict[str, Any], preview: str
) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    kind = message["type"]
    sent = dict(message)
    response = await post_webhook(client, _wa_message(case("whatsapp-flow-reply"), dict(message)))
    assert response.status_code == 200, response.text
    conversation = await only_conversation(client, world)
    assert conversation["last_message"]["preview"].startswith(preview)
    [stored] = await messages_of(client, world, conversation["id"])
    if kind in sent and kind not in ("unsupported", "audio", "sticker"):
        assert stored["content"][kind] == sent[kind]
    if kind == "sticker":
        assert stored["content"]["media"]["id"] == "9001"


@pytest.mark.parametrize(
    ("attachment", "preview"),
    [
        ({"type": "ig_reel", "payload": {"url": "https://lookaside.example/reel", "title": "Reel"}}, "[shared a reel]"),
        ({"type": "share", "payload": {"url": "https://instagram.example/p/1"}}, "[shared a post]"),
        ({"type": "story_mention", "payload": {"url": "https://cdn.example/story"}}, "[mentioned you in their story]"),
    ],
)
async def test_instagram_shares_are_readable(
    client: httpx.AsyncClient, runtime: Runtime, attachment: dict[str, Any], preview: str
) -> None:
    world = await meta_world(runtime, client, "instagram")
    payload = case("instagram-message-then-unsend.1")
    payload["entry"][0]["messaging"][0]["message"] = {"mid": "ig-share-1", "attachments": [attachment]}
    assert (await post_webhook(client, payload)).status_code == 200
    conversation = await only_conversation(client, world)
    assert conversation["last_message"]["preview"] == preview
    [stored] = await messages_of(client, world, conversation["id"])
    assert stored["content"]["shares"][0]["url"] == attachment["payload"]["url"]


async def test_messenger_sticker_keeps_its_id(client: httpx.AsyncClient, runtime: Runtime) -> None:
    world = await meta_world(runtime, client, "messenger", page_id=CASE_PAGE_ID)
    payload = case("messenger-file-percent-encoded-name")
    payload["entry"][0]["messaging"][0]["message"] = {
        "mid": "m_sticker",
        "sticker_id": 369239263222822,
        "attachments": [
            {"type": "image", "payload": {"url": "https://cdn.example/s.png", "sticker_id": 369239263222822}}
        ],
    }
    assert (await post_webhook(client, payload)).status_code == 200
    conversation = await only_conversation(client, world)
    [stored] = await messages_of(client, world, conversation["id"])
    assert stored["content"]["sticker"] == {"id": "369239263222822"}
    assert conversation["last_message"]["preview"] == "[sticker]"


# ---------------------------------------------------------------- withdrawn and edited messages


async def _unsend(client: httpx.AsyncClient, flag: object) -> httpx.Response:
    payload = case("instagram-message-then-unsend.2")
    payload["entry"][0]["messaging"][0]["message"]["is_deleted"] = flag
    return await post_webhook(client, payload)


@pytest.mark.parametrize("flag", [True, "true"])
async def test_instagram_unsend_removes_the_text_everywhere(
    client: httpx.AsyncClient, runtime: Runtime, flag: object
) -> None:
    world = await meta_world(runtime, client, "instagram")
    assert (await post_webhook(client, case_bytes("instagram-message-then-unsend.1"))).status_code == 200
    response = await _unsend(client, flag)
    assert response.status_code == 200 and response.json()["events"] == 1

    conversation = await only_conversation(client, world)
    assert conversation["last_message"]["preview"] == DELETED_PREVIEW
    [message] = await messages_of(client, world, conversation["id"])
    assert message["text"] is None and message["attachments"] == []
    assert message["content"]["deleted"]["by"] == "contact"
    async with runtime.db.reads() as session:
        rows = list((await session.execute(select(OutboxRow))).scalars())
    # Operators see it live; no frame or webhook event still waiting carries the card number.
    assert any(r.payload.get("type") == "message.updated" for r in rows)
    assert "4111" not in json.dumps([r.payload for r in rows])
    again = await _unsend(client, flag)
    assert again.status_code == 200


async def test_unsend_of_a_message_with_files_deletes_them_from_disk(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    world = await meta_world(runtime, client, "instagram")
    payload = case("instagram-message-then-unsend.1")
    payload["entry"][0]["messaging"][0]["message"]["attachments"] = [
        {"type": "image", "payload": {"url": "https://cdn.example.test/card-photo.png"}}
    ]
    peer.default = httpx.Response(
        200, headers={"Content-Type": "image/png"}, content=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR card photo"
    )
    assert (await post_webhook(client, payload)).status_code == 200
    await drain(runtime)
    async with runtime.db.reads() as session:
        [attachment] = list((await session.execute(select(Attachment))).scalars())
    assert attachment.state == "stored" and attachment.storage_key
    path = runtime.blobs.path(attachment.storage_key)
    assert path.exists()

    assert (await _unsend(client, True)).status_code == 200
    assert not path.exists()
    async with runtime.db.reads() as session:
        assert list((await session.execute(select(Attachment))).scalars()) == []
    conversation = await only_conversation(client, world)
    assert conversation["last_message"]["preview"] == DELETED_PREVIEW


async def test_instagram_edit_updates_the_text_and_keeps_the_earlier_version(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    world = await meta_world(runtime, client, "instagram")
    first = case("instagram-message-then-unsend.1")
    first["entry"][0]["messaging"][0]["message"]["text"] = "my order is 1234"
    assert (await post_webhook(client, first)).status_code == 200
    edit = case("instagram-message-then-unsend.2")
    event = edit["entry"][0]["messaging"][0]
    mid = event.pop("message")["mid"]
    event["message_edit"] = {"mid": mid, "text": "my order is 1243", "num_edit": 1}
    assert (await post_webhook(client, edit)).status_code == 200
    conversation = await only_conversation(client, world)
    [message] = await messages_of(client, world, conversation["id"])
    assert message["text"] == "my order is 1243"
    assert [e["text"] for e in message["content"]["edits"]] == ["my order is 1234"]
    assert conversation["last_message"]["preview"] == "my order is 1243"


async def _recheck_now(runtime: Runtime) -> None:
    """Make the delayed recheck due, then run the worker."""
    async with runtime.db.transaction() as session:
        await session.execute(
            update(OutboxRow).where(OutboxRow.topic == EARLY_CHANGE_TOPIC).values(available_at=utcnow())
        )
    await drain(runtime)


async def _early_changes(runtime: Runtime) -> list[EarlyChange]:
    async with runtime.db.reads() as session:
        return list((await session.execute(select(EarlyChange))).scalars())


@pytest.mark.parametrize("flag", [True, "true"])
async def test_an_unsend_before_its_message_stores_the_message_withdrawn(
    client: httpx.AsyncClient, runtime: Runtime, flag: object
) -> None:
    world = await meta_world(runtime, client, "instagram")
    assert (await _unsend(client, flag)).status_code == 200
    assert [c.kind for c in await _early_changes(runtime)] == ["deleted"]
    message = case("instagram-message-then-unsend.1")
    message["entry"][0]["messaging"][0]["message"]["attachments"] = [
        {"type": "image", "payload": {"url": "https://cdn.example.test/card-photo.png"}}
    ]
    for _ in range(2):  # the message, and the provider's redelivery of it
        assert (await post_webhook(client, message)).status_code == 200

    conversation = await only_conversation(client, world)
    assert conversation["last_message"]["preview"] == DELETED_PREVIEW
    [stored] = await messages_of(client, world, conversation["id"])
    assert (stored["text"], stored["content_type"], stored["attachments"]) == (None, "deleted", [])
    assert stored["content"]["deleted"]["by"] == "contact"
    async with runtime.db.reads() as session:
        rows = list((await session.execute(select(OutboxRow))).scalars())
        assert list((await session.execute(select(Attachment))).scalars()) == []
    # Never stored, so no frame, webhook event or fetch carries it; nothing for the bot to answer.
    assert "4111" not in json.dumps([r.payload for r in rows]) and "card-photo" not in json.dumps(
        [r.payload for r in rows]
    )
    # The new contact's name is still looked up (contacts/profiles.py): the payload names only the sender.
    assert {r.topic for r in rows} == {"realtime.publish", "webhooks.event", EARLY_CHANGE_TOPIC, PROFILE_TOPIC}
    assert await _early_changes(runtime) == []
    await _recheck_now(runtime)  # finds nothing left to do
    [again] = await messages_of(client, world, conversation["id"])
    assert again["content"] == stored["content"]


async def test_an_unsend_committed_alongside_its_message_is_applied_by_the_recheck(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """PostgreSQL: the message's transaction saw no early change, the unsend's saw no message; both commit."""
    world = await meta_world(runtime, client, "instagram")
    assert (await post_webhook(client, case_bytes("instagram-message-then-unsend.1"))).status_code == 200
    mid = case("instagram-message-then-unsend.1")["entry"][0]["messaging"][0]["message"]["mid"]
    async with runtime.db.transaction() as session:
        channel = await session.get(Channel, world.channel_id)
        assert channel is not None
        # What the unsend's transaction did, not seeing the message: kept the change and queued the recheck.
        await keep_early(session, channel, mid, kind="deleted", text=None, at=utcnow())
    await _recheck_now(runtime)
    conversation = await only_conversation(client, world)
    [message] = await messages_of(client, world, conversation["id"])
    assert (message["text"], message["content_type"]) == (None, "deleted")
    assert conversation["last_message"]["preview"] == DELETED_PREVIEW
    assert await _early_changes(runtime) == []


async def test_edits_before_their_message_are_applied_when_it_arrives(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    world = await meta_world(runtime, client, "instagram")
    first = case("instagram-message-then-unsend.1")
    first["entry"][0]["messaging"][0]["message"]["text"] = "my order is 1234"
    sent_at = first["entry"][0]["messaging"][0]["timestamp"]
    edit = case("instagram-message-then-unsend.2")
    event = edit["entry"][0]["messaging"][0]
    mid = event.pop("message")["mid"]
    # Two edits, delivered newest first, both before the message.
    for text, number in (("my order is 1342", 2), ("my order is 1243", 1)):
        event["message_edit"] = {"mid": mid, "text": text, "num_edit": number}
        event["timestamp"] = sent_at + number * 1000
        assert (await post_webhook(client, edit)).status_code == 200
    assert (await post_webhook(client, first)).status_code == 200

    conversation = await only_conversation(client, world)
    [message] = await messages_of(client, world, conversation["id"])
    assert message["text"] == "my order is 1342"
    assert [e["text"] for e in message["content"]["edits"]] == ["my order is 1234", "my order is 1243"]
    assert conversation["last_message"]["preview"] == "my order is 1342"
    assert await _early_changes(runtime) == []


async def test_early_changes_whose_message_never_comes_are_dropped_after_a_week(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await meta_world(runtime, client, "instagram")
    assert (await _unsend(client, True)).status_code == 200
    async with runtime.db.transaction() as session:
        [kept] = list((await session.execute(select(EarlyChange))).scalars())
        kept.created_at = utcnow() - timedelta(days=EARLY_CHANGE_DAYS, minutes=1)
    other = case("instagram-message-then-unsend.2")
    other["entry"][0]["messaging"][0]["message"]["mid"] = "another-mid"
    assert (await post_webhook(client, other)).status_code == 200
    assert [c.provider_message_id for c in await _early_changes(runtime)] == ["another-mid"]


# ---------------------------------------------------------------- names decoded once, downloads


async def test_messenger_file_name_is_decoded_once_and_offered_on_download(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    world = await meta_world(runtime, client, "messenger", page_id=CASE_PAGE_ID)
    peer.default = httpx.Response(200, headers={"Content-Type": "application/pdf"}, content=b"%PDF-1.4\n%invoice\n")
    assert (await post_webhook(client, case_bytes("messenger-file-percent-encoded-name"))).status_code == 200
    await drain(runtime)
    conversation = await only_conversation(client, world)
    [message] = await messages_of(client, world, conversation["id"])
    [attachment] = message["attachments"]
    assert attachment["filename"] == "Rechnung März 2024 (final).pdf"
    assert conversation["last_message"]["preview"] == "[attachment] Rechnung März 2024 (final).pdf"
    download = await client.get(attachment["url"], headers=world.admin.headers)
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        'attachment; filename="Rechnung Marz 2024 (final).pdf"; '
        "filename*=UTF-8''Rechnung%20M%C3%A4rz%202024%20%28final%29.pdf"
    )


# ---------------------------------------------------------------- provider time, number change


async def test_a_late_message_never_becomes_the_preview_over_a_newer_one(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    payload = case("whatsapp-batch-broken-emoji")
    value = payload["entry"][0]["changes"][0]["value"]
    newer, older = copy.deepcopy(value["messages"][0]), copy.deepcopy(value["messages"][0])
    newer.update(id="wamid.NEWER", text={"body": "newer"})
    older.update(id="wamid.OLDER", text={"body": "older, delivered late"}, timestamp=str(int(newer["timestamp"]) - 60))
    for message in (newer, older):
        value["messages"] = [message]
        assert (await post_webhook(client, payload)).status_code == 200
    conversation = await only_conversation(client, world)
    assert conversation["last_message"]["preview"] == "newer"


async def test_number_change_is_a_system_event_and_the_new_number_continues_the_contact(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    payload = case("whatsapp-flow-reply")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] = [
        {"from": "5511987650003", "id": "wamid.A1", "timestamp": "1795993000", "type": "text", "text": {"body": "oi"}}
    ]
    assert (await post_webhook(client, payload)).status_code == 200
    before = await only_conversation(client, world)
    value["messages"] = [
        {
            "from": "5511987650003",
            "id": "wamid.SYS-CHANGE",
            "timestamp": "1795993100",
            "type": "system",
            "system": {
                "body": "Lucia changed from 5511987650003 to 5511987659999",
                "wa_id": "5511987659999",
                "type": "user_changed_number",
            },
        }
    ]
    assert (await post_webhook(client, payload)).status_code == 200
    after = await only_conversation(client, world)
    assert (after["unread_count"], after["last_inbound_at"]) == (before["unread_count"], before["last_inbound_at"])
    messages = await messages_of(client, world, after["id"])
    assert messages[-1]["author_kind"] == "system" and messages[-1]["content"]["system"]["new_id"] == "5511987659999"

    value["contacts"] = [{"profile": {"name": "Lucia Ferreira"}, "wa_id": "5511987659999"}]
    value["messages"] = [
        {"from": "5511987659999", "id": "wamid.A2", "timestamp": "1795993200", "type": "text", "text": {"body": "nova"}}
    ]
    assert (await post_webhook(client, payload)).status_code == 200
    final = await only_conversation(client, world)
    assert final["id"] == after["id"] and final["contact"]["id"] == before["contact"]["id"]
    assert [m["text"] for m in await messages_of(client, world, final["id"])][-1] == "nova"


async def test_an_unsend_after_delivery_leaves_no_copy_in_replay_buffers_or_webhook_records(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    world = await meta_world(runtime, client, "instagram")
    peer.default = httpx.Response(200, json={"ok": True})
    hook = await client.post(
        "/api/v1/webhooks", json={"url": "http://93.184.216.34/hooks/crm", "events": ["*"]}, headers=world.admin.headers
    )
    assert hook.status_code == 201, hook.text
    assert (await post_webhook(client, case_bytes("instagram-message-then-unsend.1"))).status_code == 200
    await drain(runtime)
    # Relayed to operators and delivered to the CRM: the card number is in the replay buffer and the records.
    async with runtime.db.reads() as session:
        delivered = list((await session.execute(select(WebhookDelivery))).scalars())
    assert delivered and all(d.status == "succeeded" for d in delivered)
    assert "4111" in json.dumps([d.payload for d in delivered])
    assert "4111" in json.dumps(list(runtime.hub._buffer))

    assert (await _unsend(client, True)).status_code == 200
    await drain(runtime)
    async with runtime.db.reads() as session:
        records = [d.payload for d in (await session.execute(select(WebhookDelivery))).scalars()]
    assert "4111" not in json.dumps(records)
    buffered = list(runtime.hub._buffer)
    assert "4111" not in json.dumps(buffered)
    # The withdrawal itself stays replayable, so a reconnecting operator learns of it.
    assert any(f["type"] == "message.updated" and f["data"]["content"].get("deleted") for f in buffered)


CONTROLS = "hi\x00null\x07 \x1b[1mbold\x7f\tTAB\r\nnext \u200b zw 😀"
CONTROLS_STORED = "hinull [1mbold\tTAB\r\nnext \u200b zw 😀"


async def test_control_characters_in_a_whatsapp_text_and_name_are_removed_the_rest_kept(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A2: NUL and other C0 controls (not tab/LF/CR) are removed at the inbound edge; operators never see "�"."""
    world = await meta_world(runtime, client, "whatsapp")
    response = await post_webhook(client, wa_text("wamid.controls-1", CONTROLS, name="Ana\x00\x01 Silva\x1f"))
    assert response.status_code == 200, response.text
    await drain(runtime)
    conversation = await only_conversation(client, world)
    assert conversation["contact"]["name"] == "Ana Silva"
    [message] = [m for m in await messages_of(client, world, conversation["id"]) if m["direction"] == "inbound"]
    assert message["text"] == CONTROLS_STORED


@pytest.mark.parametrize(
    ("stamp", "kept"), [("1", "1970-01-01T00:00:01+00:00"), ("32503680000", "3000-01-01T00:00:00+00:00")]
)
async def test_an_implausible_provider_time_files_the_message_at_its_receive_time_and_keeps_the_value(
    client: httpx.AsyncClient, runtime: Runtime, stamp: str, kept: str
) -> None:
    """A1: a provider clock in 1970 or the year 3000 must not file the message outside today's timeline."""
    world = await meta_world(runtime, client, "whatsapp")
    payload = wa_text("wamid.clock-1", "what time is it?")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = stamp
    before = utcnow()
    assert (await post_webhook(client, payload)).status_code == 200
    await drain(runtime)
    conversation = await only_conversation(client, world)
    [message] = await messages_of(client, world, conversation["id"])
    filed = datetime.fromisoformat(message["provider_timestamp"])
    filed = filed if filed.tzinfo else filed.replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= filed <= utcnow()
    assert message["content"]["implausible_provider_timestamp"] == kept
