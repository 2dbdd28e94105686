"""`/webhooks/meta` with WhatsApp payloads on both databases: verification, signatures, limits, persistence."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select

from helpline.conversations.models import Message
from helpline.engagement.models import MessageTemplate
from helpline.profiles.models import Event
from helpline.runtime import Runtime
from tests.channels.meta_support import (
    APP_SECRET,
    VERIFY_TOKEN,
    fixture,
    fresh,
    messages_of,
    meta_world,
    only_conversation,
    post_webhook,
    raw,
    signature,
    wa_text,
)
from tests.conftest import drain
from tests.platform.fake_peer import Peer

# The first bytes of a JFIF file: Helpline checks a declared image type against the bytes.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"


async def count_messages(runtime: Runtime) -> int:
    async with runtime.db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Message))).scalar_one())


async def test_subscription_check_echoes_the_challenge_only_with_the_right_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    ok = await client.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["content-type"].startswith("text/plain")
    wrong = await client.get(
        "/webhooks/meta", params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "guess"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "bad_verify_token"
    assert (await client.get("/webhooks/meta")).status_code == 403


async def test_a_signed_message_creates_a_conversation(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    response = await post_webhook(client, wa_text("wamid.A1", "Olá"))
    assert response.status_code == 200, response.text
    conversation = await only_conversation(client, mw.world)
    assert conversation["channel"]["kind"] == "whatsapp" and conversation["contact"]["name"] == "Sheena Nelson"
    assert conversation["window"]["state"] == "open"
    [message] = await messages_of(client, mw.world, conversation["id"])
    assert (message["text"], message["direction"], message["provider_message_id"]) == ("Olá", "inbound", "wamid.A1")


async def test_forged_or_missing_signature_stores_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await meta_world(runtime, client, "whatsapp")
    forged = await post_webhook(client, wa_text("wamid.F1", "hi"), secret="not-the-app-secret")
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"
    unsigned = await client.post("/webhooks/meta", content=raw(wa_text("wamid.F2", "hi")))
    assert unsigned.status_code == 401
    assert await count_messages(runtime) == 0


async def test_signature_is_over_the_raw_bytes_not_re_serialised_json(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    payload = wa_text("wamid.U1", "Você já enviou a apólice? ção/ü", name="Zoë Ñandú")
    body = raw(payload)  # what Meta sends: \u00e7 escapes, lowercase hex
    assert b"\\u00e7" in body
    re_serialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature(re_serialised)}
    wrong = await client.post("/webhooks/meta", content=body, headers=headers)
    assert wrong.status_code == 401
    assert await count_messages(runtime) == 0
    right = await client.post(
        "/webhooks/meta",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature(body, APP_SECRET)},
    )
    assert right.status_code == 200
    conversation = await only_conversation(client, mw.world)
    assert conversation["contact"]["name"] == "Zoë Ñandú"
    [message] = await messages_of(client, mw.world, conversation["id"])
    assert message["text"] == "Você já enviou a apólice? ção/ü"


async def test_a_replayed_webhook_stores_one_message(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await meta_world(runtime, client, "whatsapp")
    payload = wa_text("wamid.R1", "só uma vez")
    for _ in range(3):
        assert (await post_webhook(client, payload)).status_code == 200
    assert await count_messages(runtime) == 1


async def test_a_body_over_4_mb_is_refused_before_parsing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await meta_world(runtime, client, "whatsapp")
    payload = wa_text("wamid.BIG", "x" * (4 * 1024 * 1024))
    response = await post_webhook(client, payload)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert await count_messages(runtime) == 0


async def test_malformed_json_is_a_400_and_nothing_breaks(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    for body in (b'{"object": "whatsapp_business_account", "entry": [', b"\xff\xfe", b'"just a string"'):
        response = await post_webhook(client, body)
        assert response.status_code == 400 and response.json()["error"]["code"] == "bad_payload"
    assert await count_messages(runtime) == 0
    await drain(runtime)
    assert (await post_webhook(client, wa_text("wamid.OK", "still fine"))).status_code == 200
    await drain(runtime)
    assert (await only_conversation(client, mw.world))["last_message"]["preview"] == "still fine"


async def test_unknown_phone_number_is_acknowledged_skipped_and_counted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await meta_world(runtime, client, "whatsapp")
    payload = wa_text("wamid.X", "hi")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "1"
    response = await post_webhook(client, payload)
    assert response.status_code == 200 and response.json()["skipped"] == 1
    assert await count_messages(runtime) == 0
    metrics = (await client.get("/metrics")).text
    assert 'helpline_webhook_rejections_total{channel_kind="whatsapp",reason="unknown_channel"} 1.0' in metrics


async def test_statuses_move_a_reply_to_read_and_a_late_131047_fails_it_readably(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    await post_webhook(client, wa_text("wamid.IN1", "oi"))
    conversation = await only_conversation(client, mw.world)
    peer.default = httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]})
    for text in ("primeira", "segunda"):
        reply = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages", json={"text": text}, headers=mw.world.agent.headers
        )
        assert reply.status_code == 201, reply.text
        await drain(runtime)
        peer.default = httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT2"}]})
    for name in ("status_sent", "status_read", "status_delivered"):  # out of order: read wins
        assert (await post_webhook(client, fixture("whatsapp", name))).status_code == 200
    failed = fixture("whatsapp", "status_failed")
    failed["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "wamid.OUT2"
    await post_webhook(client, failed)
    first, second = [m for m in await messages_of(client, mw.world, conversation["id"]) if m["direction"] == "outbound"]
    assert first["delivery_state"] == "read"
    assert (second["delivery_state"], second["error_code"]) == ("failed", "131047")
    assert "only accepts an approved template" in second["error_reason"]


async def test_a_reaction_shows_on_the_message_it_reacts_to(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    await post_webhook(client, wa_text("wamid.IN1", "oi"))
    conversation = await only_conversation(client, mw.world)
    peer.default = httpx.Response(200, json={"messages": [{"id": "wamid.OUT1"}]})
    await client.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "ok"}, headers=mw.world.agent.headers
    )
    await drain(runtime)
    await post_webhook(client, fresh(fixture("whatsapp", "reaction")))
    await post_webhook(client, fresh(fixture("whatsapp", "reaction")))  # a retry changes nothing
    outbound = [m for m in await messages_of(client, mw.world, conversation["id"]) if m["direction"] == "outbound"]
    assert [(r["emoji"], r["by"]) for r in outbound[0]["content"]["reactions"]] == [("👍", "16505551234")]
    await post_webhook(client, fresh(fixture("whatsapp", "unreaction")))
    outbound = [m for m in await messages_of(client, mw.world, conversation["id"]) if m["direction"] == "outbound"]
    assert outbound[0]["content"]["reactions"] == []
    assert await count_messages(runtime) == 2  # reactions are not messages


async def test_media_is_fetched_by_the_worker_with_the_bearer_token(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "whatsapp")

    def graph(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/1479537139650973"):
            return httpx.Response(
                200,
                json={"url": "https://lookaside.fbsbx.com/m?mid=1", "mime_type": "image/jpeg", "file_size": len(JPEG)},
            )
        return httpx.Response(200, content=JPEG, headers={"content-type": "image/jpeg"})

    peer.default = graph
    assert (await post_webhook(client, fresh(fixture("whatsapp", "image")))).status_code == 200
    assert peer.requests == []  # nothing fetched inside the webhook request
    await drain(runtime)
    conversation = await only_conversation(client, mw.world)
    [message] = await messages_of(client, mw.world, conversation["id"])
    [attachment] = message["attachments"]
    assert (attachment["state"], attachment["size"], message["text"]) == ("stored", len(JPEG), "my car")
    assert all(r.headers["authorization"].startswith("Bearer ") for r in peer.requests)


async def test_a_click_to_whatsapp_ad_sets_the_mapped_event(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.db.transaction() as session:
        event = Event(name="Feira do Seguro 2026")
        session.add(event)
        await session.flush()
        event_id = event.id
    mw = await meta_world(runtime, client, "whatsapp", referral_events={"120208871234560123": event_id})
    await post_webhook(client, fresh(fixture("whatsapp", "referral")))
    conversation = await only_conversation(client, mw.world)
    assert conversation["event"]["id"] == event_id


async def test_template_status_webhook_updates_the_template(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    async with runtime.db.transaction() as session:
        session.add(
            MessageTemplate(
                channel_id=mw.channel_id, name="order_update", language="en_US", category="UTILITY", status="APPROVED"
            )
        )
    assert (await post_webhook(client, fixture("whatsapp", "template_status"))).status_code == 200
    async with runtime.db.sessions() as session:
        row = (await session.execute(select(MessageTemplate))).scalar_one()
    assert (row.status, row.status_reason) == ("PAUSED", "LOW_QUALITY")


async def test_every_message_type_is_stored(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await meta_world(runtime, client, "whatsapp")
    names = [
        "text", "image", "document", "audio", "video", "sticker", "location", "contacts", "interactive_button",
        "interactive_list", "button", "unsupported", "system", "reply", "forwarded", "referral", "batch",
    ]  # fmt: skip
    for name in names:
        response = await post_webhook(client, fresh(fixture("whatsapp", name)))
        assert response.status_code == 200, (name, response.text)
    assert await count_messages(runtime) == len(names) + 2  # the batch holds three
