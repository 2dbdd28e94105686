"""Messenger: parsing recorded payloads, the Send API bodies, HUMAN_AGENT, echoes and watermarks end to end."""

from __future__ import annotations

import json

import httpx
import pytest

from helpline.channels.base import (
    ChannelConfig,
    DeliveryError,
    DeliveryStatusChanged,
    DeliveryWatermark,
    InboundEvent,
    InboundMessage,
    OutboundAttachment,
    OutboundMessage,
)
from helpline.channels.messenger.adapter import MessengerAdapter
from helpline.conversations.actions import BOT, send_reply
from helpline.engagement.windows import ReplyNotAllowed
from helpline.runtime import Runtime
from tests.channels.meta_support import (
    APP_ID,
    GRAPH,
    PAGE_ID,
    PSID,
    TOKEN,
    VERSION,
    age_conversation,
    fixture,
    fresh,
    graph_error,
    messages_of,
    meta_world,
    only_conversation,
    post_webhook,
    raw,
)
from tests.conftest import drain
from tests.platform.fake_peer import Peer

CONFIG = ChannelConfig(
    id=1,
    kind="messenger",
    name="page",
    credentials={"access_token": TOKEN},
    settings={"page_id": PAGE_ID},
    platform={"meta_graph_url": GRAPH, "meta_graph_version": VERSION, "meta_app_id": APP_ID},
)
SENT = httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_OUT1"})


def parse(name: str) -> list[InboundEvent]:
    return MessengerAdapter(CONFIG, httpx.AsyncClient()).parse_webhook(raw(fixture("messenger", name)))


def one(name: str) -> InboundMessage:
    [event] = parse(name)
    assert isinstance(event, InboundMessage)
    return event


def outbound(text: str | None = "Olá", *, author: str = "operator", **extra: object) -> OutboundMessage:
    return OutboundMessage(
        message_id=7,
        conversation_id=3,
        idempotency_key="helpline-message-7",
        recipient_id=PSID,
        text=text,
        author_kind=author,
        **extra,  # type: ignore[arg-type]
    )


def adapter(peer: Peer) -> MessengerAdapter:
    return MessengerAdapter(CONFIG, httpx.AsyncClient(transport=httpx.MockTransport(peer)))


# ---------------------------------------------------------------- parsing


def test_text_quick_reply_reply_to_and_postback() -> None:
    text = one("text")
    assert (text.contact.provider_id, text.provider_message_id, text.text) == (PSID, "m_TEXT1", "Oi, tudo bem?")
    assert text.timestamp is not None and text.timestamp.year == 2025
    assert one("quick_reply").content["quick_reply"] == {"payload": "AUTO"}
    assert one("reply_to").reply_to_provider_id == "m_OUT1"
    postback = one("postback")
    assert (postback.content_type, postback.text) == ("postback", "Falar com atendente")
    assert postback.content["postback"]["payload"] == "HUMAN" and postback.referral_id == "feira2026"


def test_attachments_are_fetched_from_the_cdn_and_links_kept() -> None:
    message = one("attachments")
    image, pdf = message.attachments
    assert (image.content_type, image.filename) == ("image/jpeg", "photo.jpg")
    assert pdf.content_type == "application/pdf" and pdf.source_url and pdf.source_url.startswith("https://cdn")
    assert message.content["shares"] == [{"type": "fallback", "url": "https://example.com/x", "title": "A link"}]


def test_echoes_from_the_page_inbox_are_kept_and_our_own_are_dropped() -> None:
    echo = one("echo_inbox")
    assert echo.echo and echo.contact.provider_id == PSID  # the customer is the recipient
    assert parse("echo_own") == []  # our app id
    assert parse("echo_own_metadata") == []  # our metadata, even without the app id


def test_delivery_and_read_watermarks() -> None:
    status, watermark = parse("delivery")
    assert status == DeliveryStatusChanged(provider_message_id="m_OUT1", state="delivered")
    assert isinstance(watermark, DeliveryWatermark) and watermark.state == "delivered"
    [read] = parse("read")
    assert isinstance(read, DeliveryWatermark) and (read.contact_provider_id, read.state) == (PSID, "read")


# ---------------------------------------------------------------- sending


async def test_a_reply_inside_24_hours_is_a_response() -> None:
    peer = Peer(default=SENT)
    receipt = await adapter(peer).send(outbound())
    [request] = peer.requests
    assert str(request.url) == f"{GRAPH}/{VERSION}/{PAGE_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Olá", "metadata": "helpline-message-7"},
    }
    assert receipt.provider_message_id == "m_OUT1"


async def test_human_agent_tag_for_operators_only() -> None:
    peer = Peer(default=SENT)
    tagged = {"send_options": {"message_tag": "HUMAN_AGENT"}}
    await adapter(peer).send(outbound(content=tagged))
    body = json.loads(peer.requests[0].content)
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    with pytest.raises(DeliveryError) as caught:
        await adapter(peer).send(outbound(author="bot", content=tagged))
    assert not caught.value.retryable and "person" in caught.value.reason
    assert len(peer.requests) == 1


async def test_files_are_uploaded_with_filedata_then_sent_by_attachment_id() -> None:
    peer = Peer(script=[httpx.Response(200, json={"attachment_id": "1857777774821032"})], default=SENT)
    pdf = OutboundAttachment(filename="a.pdf", content_type="application/pdf", size=3, url="https://h/a", data=b"pdf")
    await adapter(peer).send(outbound(None, attachments=(pdf,)))
    upload, send = peer.requests
    assert str(upload.url) == f"{GRAPH}/{VERSION}/{PAGE_ID}/message_attachments"
    assert b'name="filedata"; filename="a.pdf"' in upload.content
    assert b'{"attachment": {"type": "file", "payload": {"is_reusable": true}}}' in upload.content
    assert json.loads(send.content)["message"] == {
        "attachment": {"type": "file", "payload": {"attachment_id": "1857777774821032"}},
        "metadata": "helpline-message-7",
    }


async def test_the_outside_window_error_is_permanent_and_clear() -> None:
    peer = Peer(
        default=graph_error(
            10,
            "(#10) This message is sent outside of allowed window. Learn more about the new policy here: "
            "https://developers.facebook.com/docs/messenger-platform/policy-overview",
            subcode=2018278,
        )
    )
    with pytest.raises(DeliveryError) as caught:
        await adapter(peer).send(outbound())
    assert (caught.value.retryable, caught.value.code) == (False, "10/2018278")
    assert caught.value.reason.startswith("sent outside the allowed window")
    assert "HUMAN_AGENT" in caught.value.reason


async def test_text_of_2000_characters_is_refused_before_sending() -> None:
    peer = Peer(default=SENT)
    with pytest.raises(DeliveryError) as caught:
        await adapter(peer).send(outbound("x" * 2000))
    assert "at most 1999 characters" in caught.value.reason and peer.requests == []


# ---------------------------------------------------------------- end to end (both databases)


async def test_operator_reply_between_24_hours_and_7_days_goes_out_with_human_agent(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "messenger")
    await post_webhook(client, fresh(fixture("messenger", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    await age_conversation(runtime, conversation_id, hours=30)
    window = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=mw.agent.headers)).json()["window"]
    assert window["state"] == "closed" and window["human_expires_at"]
    peer.default = SENT
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Oi, sou a Ana"}, headers=mw.agent.headers
    )
    assert response.status_code == 201, response.text
    await drain(runtime)
    body = json.loads(peer.requests[0].content)
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    await age_conversation(runtime, conversation_id, hours=24 * 8)
    late = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "ainda aí?"}, headers=mw.agent.headers
    )
    assert late.status_code == 409 and "until the customer writes again" in late.json()["error"]["message"]


async def test_the_bot_never_replies_after_24_hours(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw = await meta_world(runtime, client, "messenger", bot_enabled=True)
    await post_webhook(client, fresh(fixture("messenger", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    await age_conversation(runtime, conversation_id, hours=30)
    with pytest.raises(ReplyNotAllowed) as caught:
        async with runtime.db.transaction() as session:
            await send_reply(session, conversation_id=conversation_id, author=BOT, text="oi", blobs=runtime.blobs)
    assert caught.value.details["allowed"] == ["operator reply with HUMAN_AGENT"]


async def test_page_inbox_echo_is_shown_once_and_own_echo_never_duplicates(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "messenger", bot_enabled=True)
    await post_webhook(client, fresh(fixture("messenger", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    for _ in range(2):
        assert (await post_webhook(client, fresh(fixture("messenger", "echo_inbox")))).status_code == 200
    conversation = await only_conversation(client, mw)
    # A person answered in Meta's Page inbox: the bot steps back; the echo is no customer message.
    assert (conversation["handler"], conversation["unread_count"]) == ("human", 1)
    peer.default = httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_OUT1"})
    await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Olá"}, headers=mw.agent.headers
    )
    await drain(runtime)
    own = fresh(fixture("messenger", "echo_own"))
    own["entry"][0]["messaging"][0]["message"]["mid"] = "m_OUT1"
    assert (await post_webhook(client, own)).status_code == 200
    messages = await messages_of(client, mw, conversation_id)
    assert [(m["direction"], m["author_kind"], m["text"]) for m in messages] == [
        ("inbound", "contact", "Oi, tudo bem?"),
        ("outbound", "operator", "Oi! Aqui é a Carla, do atendimento."),
        # The timeline records that a person took over (from outside Helpline: no actor).
        ("outbound", "system", None),
        ("outbound", "operator", "Olá"),
    ]
    echo = messages[1]
    assert echo["content"]["sent_outside_helpline"] is True and echo["operator"] is None
    assert messages[2]["content"] == {"event": "took_over", "actor": None}
    assert messages[2]["delivery_state"] == "internal"
    assert echo["delivery_state"] == "sent" and messages[3]["operator"]["id"] == mw.agent.id


async def test_read_watermark_marks_every_earlier_reply_read(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "messenger")
    await post_webhook(client, fresh(fixture("messenger", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    for index in range(2):
        peer.default = httpx.Response(200, json={"recipient_id": PSID, "message_id": f"m_OUT{index}"})
        await client.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"text": f"r{index}"}, headers=mw.agent.headers
        )
        await drain(runtime)
    await post_webhook(client, fresh(fixture("messenger", "read")))
    states = [
        m["delivery_state"] for m in await messages_of(client, mw, conversation_id) if m["direction"] == "outbound"
    ]
    assert states == ["read", "read"]


async def test_an_echo_that_overtakes_our_send_is_not_a_second_message(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "messenger")
    await post_webhook(client, fresh(fixture("messenger", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Olá"}, headers=mw.agent.headers
    )
    # The echo arrives before the delivery worker ran, and from an app id we do not recognise.
    echo = fresh(fixture("messenger", "echo_inbox"))
    echo["entry"][0]["messaging"][0]["message"].update(mid="m_RACE", text="Olá")
    assert (await post_webhook(client, echo)).status_code == 200
    peer.default = httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_RACE"})
    await drain(runtime)
    [_, reply] = await messages_of(client, mw, conversation_id)
    assert (reply["delivery_state"], reply["provider_message_id"], reply["operator"]["id"]) == (
        "sent",
        "m_RACE",
        mw.agent.id,
    )
