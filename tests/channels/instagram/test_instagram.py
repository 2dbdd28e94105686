"""Instagram: parsing recorded payloads, Instagram's limits checked before sending, HUMAN_AGENT, end to end."""

from __future__ import annotations

import json

import httpx
import pytest

from helpline.channels.base import (
    ChannelConfig,
    DeliveryError,
    DeliveryStatusChanged,
    InboundEvent,
    InboundMessage,
    InboundReaction,
    OutboundAttachment,
    OutboundMessage,
)
from helpline.channels.instagram.adapter import InstagramAdapter
from helpline.runtime import Runtime
from tests.channels.meta_support import (
    GRAPH,
    IG_ID,
    IGSID,
    TOKEN,
    VERSION,
    age_conversation,
    fixture,
    fresh,
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
    kind="instagram",
    name="ig",
    credentials={"access_token": TOKEN},
    settings={"ig_account_id": IG_ID},
    platform={"meta_graph_url": GRAPH, "meta_graph_version": VERSION},
)
SENT = httpx.Response(200, json={"recipient_id": IGSID, "message_id": "ig_OUT1"})
MB = 1024 * 1024


def parse(name: str) -> list[InboundEvent]:
    return InstagramAdapter(CONFIG, httpx.AsyncClient()).parse_webhook(raw(fixture("instagram", name)))


def one(name: str) -> InboundMessage:
    [event] = parse(name)
    assert isinstance(event, InboundMessage)
    return event


def outbound(text: str | None = "Oi!", **extra: object) -> OutboundMessage:
    return OutboundMessage(
        message_id=9,
        conversation_id=3,
        idempotency_key="helpline-message-9",
        recipient_id=IGSID,
        text=text,
        author_kind="operator",
        **extra,  # type: ignore[arg-type]
    )


def adapter(peer: Peer) -> InstagramAdapter:
    return InstagramAdapter(CONFIG, httpx.AsyncClient(transport=httpx.MockTransport(peer)))


def test_text_image_story_reply_and_mention() -> None:
    text = one("text")
    assert (text.contact.provider_id, text.text) == (IGSID, "Oi! Vi o post de vocês")
    [image] = one("image").attachments
    assert image.content_type == "image/jpeg" and image.source_url and "lookaside" in image.source_url
    story = one("story_reply")
    assert story.text == "que lindo!" and story.content["story_reply"]["id"] == "17890000000000002"
    mention = one("story_mention")
    assert mention.content["story_mention"] is True and mention.text == "[mentioned you in their story]"
    assert one("referral").referral_id == "120200000000000777"


def test_reactions_echoes_and_seen() -> None:
    [reaction] = parse("reaction")
    assert isinstance(reaction, InboundReaction) and (reaction.target_provider_id, reaction.emoji) == ("ig_OUT1", "❤️")
    [removed] = parse("unreaction")
    assert isinstance(removed, InboundReaction) and removed.emoji is None
    echo = one("echo")
    assert echo.echo and echo.contact.provider_id == IGSID
    assert parse("seen") == [DeliveryStatusChanged(provider_message_id="ig_OUT1", state="read")]


def test_settings_accept_the_long_account_id_name() -> None:
    prepared = InstagramAdapter.prepare({"access_token": TOKEN}, {"instagram_account_id": int(IG_ID)})
    assert prepared.settings["ig_account_id"] == IG_ID


async def test_send_body_and_human_agent() -> None:
    peer = Peer(default=SENT)
    await adapter(peer).send(outbound())
    await adapter(peer).send(outbound(content={"send_options": {"message_tag": "HUMAN_AGENT"}}))
    plain, tagged = peer.requests
    assert str(plain.url) == f"{GRAPH}/{VERSION}/{IG_ID}/messages"
    assert plain.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(plain.content) == {"recipient": {"id": IGSID}, "message": {"text": "Oi!"}}
    assert json.loads(tagged.content) == {
        "recipient": {"id": IGSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Oi!"},
    }


async def test_images_go_by_url() -> None:
    peer = Peer(default=SENT)
    photo = OutboundAttachment(filename="a.png", content_type="image/png", size=10, url="https://h/a.png", data=b"x")
    await adapter(peer).send(outbound(None, attachments=(photo,)))
    assert json.loads(peer.requests[0].content)["message"] == {
        "attachment": {"type": "image", "payload": {"url": "https://h/a.png"}}
    }


@pytest.mark.parametrize(
    ("attachment", "expected"),
    [
        (OutboundAttachment("a.webp", "image/webp", 10, "https://h/a"), "image/png, image/jpeg, image/gif"),
        (OutboundAttachment("a.pdf", "application/pdf", 10, "https://h/a"), "image/png, image/jpeg, image/gif"),
        (OutboundAttachment("big.jpg", "image/jpeg", 9 * MB, "https://h/a"), "up to 8 MB"),
        (OutboundAttachment("big.mp4", "video/mp4", 26 * MB, "https://h/a"), "up to 25 MB"),
    ],
)
async def test_instagram_limits_are_checked_before_sending(attachment: OutboundAttachment, expected: str) -> None:
    peer = Peer(default=SENT)
    with pytest.raises(DeliveryError) as caught:
        await adapter(peer).send(outbound(attachments=(attachment,)))
    assert not caught.value.retryable and expected in caught.value.reason and peer.requests == []


async def test_text_over_999_characters_is_refused_up_front_with_a_readable_reason(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "instagram")
    await post_webhook(client, fresh(fixture("instagram", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    peer.default = SENT
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "a" * 1200}, headers=mw.agent.headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "text_too_long"
    assert error["message"].startswith("Instagram accepts at most 999 characters in a message; this reply has 1200")
    assert error["details"] == {"provider": "Instagram", "max_text_length": 999}
    assert len(await messages_of(client, mw, conversation_id)) == 1  # nothing queued
    fits = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "a" * 999}, headers=mw.agent.headers
    )
    assert fits.status_code == 201
    await drain(runtime)
    assert json.loads(peer.requests[0].content)["message"] == {"text": "a" * 999}


async def test_the_adapter_still_refuses_long_text_at_delivery() -> None:
    # Bot and system replies, or a message queued before a limit changed, meet the same check before the call.
    peer = Peer(default=SENT)
    with pytest.raises(DeliveryError) as caught:
        await adapter(peer).send(outbound("a" * 1000))
    assert caught.value.code == "text_too_long" and "at most 999 characters" in caught.value.reason
    assert peer.requests == []


async def test_human_agent_between_24_hours_and_7_days(client: httpx.AsyncClient, runtime: Runtime, peer: Peer) -> None:
    mw = await meta_world(runtime, client, "instagram")
    await post_webhook(client, fresh(fixture("instagram", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    await age_conversation(runtime, conversation_id, hours=48)
    peer.default = SENT
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "voltei"}, headers=mw.agent.headers
    )
    assert response.status_code == 201
    await drain(runtime)
    assert json.loads(peer.requests[0].content)["tag"] == "HUMAN_AGENT"
    await post_webhook(client, fresh(fixture("instagram", "seen")))
    [_, reply] = await messages_of(client, mw, conversation_id)
    assert reply["delivery_state"] == "read"


async def test_reaction_on_our_message(client: httpx.AsyncClient, runtime: Runtime, peer: Peer) -> None:
    mw = await meta_world(runtime, client, "instagram")
    await post_webhook(client, fresh(fixture("instagram", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    peer.default = SENT
    await client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "oi"}, headers=mw.agent.headers
    )
    await drain(runtime)
    await post_webhook(client, fresh(fixture("instagram", "reaction")))
    [_, reply] = await messages_of(client, mw, conversation_id)
    assert [r["emoji"] for r in reply["content"]["reactions"]] == ["❤️"]
