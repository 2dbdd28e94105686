"""WhatsApp sends through httpx.MockTransport: exact URLs, headers and bodies; Graph errors classified."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from helpline.channels.base import ChannelConfig, DeliveryError, OutboundAttachment, OutboundMessage
from helpline.channels.whatsapp.adapter import WhatsAppAdapter
from tests.channels.meta_support import GRAPH, PHONE_NUMBER_ID, TOKEN, VERSION, WA_ID, WABA_ID, graph_error
from tests.platform.fake_peer import Peer

CONFIG = ChannelConfig(
    id=1,
    kind="whatsapp",
    name="wa",
    credentials={"access_token": TOKEN},
    settings={"phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID},
    platform={"meta_graph_url": GRAPH, "meta_graph_version": VERSION},
)
MESSAGES_URL = f"{GRAPH}/{VERSION}/{PHONE_NUMBER_ID}/messages"


def sent(wamid: str = "wamid.OUT1") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "messaging_product": "whatsapp",
            "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
            "messages": [{"id": wamid}],
        },
    )


def outbound(text: str | None = "Olá!", **extra: Any) -> OutboundMessage:
    return OutboundMessage(
        message_id=7,
        conversation_id=3,
        idempotency_key="helpline-message-7",
        recipient_id=WA_ID,
        text=text,
        author_kind="operator",
        **extra,
    )


def adapter(peer: Peer) -> WhatsAppAdapter:
    return WhatsAppAdapter(CONFIG, httpx.AsyncClient(transport=httpx.MockTransport(peer)))


async def test_text_with_reply_context() -> None:
    peer = Peer(default=sent())
    receipt = await adapter(peer).send(outbound(reply_to_provider_id="wamid.IN1"))
    assert receipt.provider_message_id == "wamid.OUT1"
    [request] = peer.requests
    assert (request.method, str(request.url)) == ("POST", MESSAGES_URL)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "context": {"message_id": "wamid.IN1"},
        "type": "text",
        "text": {"preview_url": False, "body": "Olá!"},
    }


async def test_media_is_uploaded_then_sent_by_id_with_the_text_as_caption() -> None:
    peer = Peer(script=[httpx.Response(200, json={"id": "MEDIA-1"})], default=sent())
    photo = OutboundAttachment(filename="car.png", content_type="image/png", size=4, url="https://h/x", data=b"\x89PNG")
    await adapter(peer).send(outbound("my car", attachments=(photo,)))
    upload, send = peer.requests
    assert str(upload.url) == f"{GRAPH}/{VERSION}/{PHONE_NUMBER_ID}/media"
    assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in upload.content
    assert b'name="type"\r\n\r\nimage/png' in upload.content
    assert b'name="file"; filename="car.png"' in upload.content and b"\x89PNG" in upload.content
    assert json.loads(send.content)["image"] == {"id": "MEDIA-1", "caption": "my car"}
    assert json.loads(send.content)["type"] == "image"


async def test_audio_cannot_carry_a_caption_so_the_text_goes_first() -> None:
    peer = Peer(script=[sent("wamid.T"), httpx.Response(200, json={"id": "MEDIA-2"})], default=sent("wamid.A"))
    voice = OutboundAttachment(filename="a.ogg", content_type="audio/ogg", size=3, url="https://h/a", data=b"ogg")
    receipt = await adapter(peer).send(outbound("ouça", attachments=(voice,)))
    text, _upload, audio = (
        json.loads(r.content) if r.headers["content-type"] == "application/json" else None for r in peer.requests
    )
    assert text is not None and text["type"] == "text"
    assert audio is not None and audio["audio"] == {"id": "MEDIA-2"}
    assert receipt.provider_message_id == "wamid.T"


async def test_pdf_goes_as_a_document_with_its_filename() -> None:
    peer = Peer(script=[httpx.Response(200, json={"id": "MEDIA-3"})], default=sent())
    pdf = OutboundAttachment(
        filename="apolice.pdf", content_type="application/pdf", size=3, url="https://h/p", data=b"pdf"
    )
    await adapter(peer).send(outbound(None, attachments=(pdf,)))
    assert json.loads(peer.requests[1].content)["document"] == {"id": "MEDIA-3", "filename": "apolice.pdf"}


async def test_template_send() -> None:
    peer = Peer(default=sent())
    template = {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}],
    }
    await adapter(peer).send(outbound("Your order 42 shipped", content={"template": template}))
    body = json.loads(peer.requests[0].content)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "template",
        "template": template,
    }


async def test_mark_read() -> None:
    peer = Peer(default=httpx.Response(200, json={"success": True}))
    await adapter(peer).mark_read("wamid.IN1")
    assert json.loads(peer.requests[0].content) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN1",
    }


async def test_text_over_4096_characters_is_refused_before_sending() -> None:
    peer = Peer(default=sent())
    with pytest.raises(DeliveryError) as caught:
        await adapter(peer).send(outbound("x" * 4097))
    assert not caught.value.retryable and "4096" in caught.value.reason
    assert peer.requests == []


@pytest.mark.parametrize(
    ("response", "retryable", "code", "reauth"),
    [
        (graph_error(130429, "(#130429) Rate limit hit", error_subcode=2494055), True, "130429", False),
        (
            graph_error(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit"),
            True,
            "131056",
            False,
        ),
        (graph_error(80007, "Rate limit issues"), True, "80007", False),
        (graph_error(4, "(#4) Application request limit reached", status=429), True, "4", False),
        (graph_error(613, "Calls to this api have exceeded the rate limit."), True, "613", False),
        (httpx.Response(503, text="Service Unavailable"), True, "http_503", False),
        (graph_error(2, "Service temporarily unavailable", status=500, is_transient=True), True, "2", False),
        (graph_error(131047, "Re-engagement message"), False, "131047", False),
        (graph_error(131026, "Message Undeliverable."), False, "131026", False),
        (graph_error(132000, "Number of parameters does not match"), False, "132000", False),
        (graph_error(132001, "Template name does not exist in the translation"), False, "132001", False),
        (graph_error(132015, "Template is Paused"), False, "132015", False),
        (graph_error(100, "(#100) Invalid parameter"), False, "100", False),
        (graph_error(368, "Temporarily blocked for policies violations", status=403), False, "368", False),
        (graph_error(190, "Error validating access token", status=401, subcode=463), False, "190/463", True),
        (graph_error(0, "AuthException", status=401), False, "0", True),
    ],
)
async def test_graph_errors_are_classified(response: httpx.Response, retryable: bool, code: str, reauth: bool) -> None:
    with pytest.raises(DeliveryError) as caught:
        await adapter(Peer(default=response)).send(outbound())
    error = caught.value
    assert (error.retryable, error.code, error.needs_reauth) == (retryable, code, reauth)
    assert error.reason  # never empty: the operator sees it


async def test_re_engagement_reason_is_readable() -> None:
    with pytest.raises(DeliveryError) as caught:
        await adapter(Peer(default=graph_error(131047, "Re-engagement message"))).send(outbound())
    assert caught.value.reason.startswith("more than 24 hours have passed since the customer last wrote")
    assert "Meta error 131047" in caught.value.reason


async def test_timeouts_and_network_errors_are_retryable() -> None:
    for failure, code in ((httpx.ReadTimeout("slow"), "timeout"), (httpx.ConnectError("down"), "network")):
        with pytest.raises(DeliveryError) as caught:
            await adapter(Peer(default=failure)).send(outbound())
        assert caught.value.retryable and caught.value.code == code


async def test_media_download_looks_up_the_url_then_fetches_it_with_the_bearer() -> None:
    def graph(request: httpx.Request) -> httpx.Response:
        if str(request.url) == f"{GRAPH}/{VERSION}/2002":
            return httpx.Response(
                200,
                json={
                    "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=2002",
                    "mime_type": "audio/ogg; codecs=opus",
                    "file_size": 3,
                    "id": "2002",
                    "messaging_product": "whatsapp",
                },
            )
        return httpx.Response(200, content=b"ogg", headers={"content-type": "audio/ogg"})

    peer = Peer(default=graph)
    data, content_type = await adapter(peer).fetch_attachment("meta-media:2002", 1000)
    assert (data, content_type) == (b"ogg", "audio/ogg")
    lookup, download = peer.requests
    assert lookup.headers["authorization"] == download.headers["authorization"] == f"Bearer {TOKEN}"
    assert download.url.host == "lookaside.fbsbx.com"


async def test_template_listing_follows_the_cursor() -> None:
    first = {
        "data": [
            {
                "id": "1",
                "name": "hello",
                "language": "en_US",
                "category": "UTILITY",
                "status": "APPROVED",
                "components": [],
            }
        ],
        "paging": {
            "cursors": {"before": "MA", "after": "MQ"},
            "next": f"{GRAPH}/{VERSION}/{WABA_ID}/message_templates?after=MQ",
        },
    }
    second = {
        "data": [
            {
                "id": "2",
                "name": "bye",
                "language": "pt_BR",
                "category": "MARKETING",
                "status": "PAUSED",
                "components": [],
            }
        ],
        "paging": {"cursors": {"before": "MQ", "after": "Mg"}},
    }
    peer = Peer(script=[httpx.Response(200, json=first), httpx.Response(200, json=second)])
    templates = await adapter(peer).list_templates()
    assert [(t.name, t.language, t.status) for t in templates] == [
        ("hello", "en_US", "APPROVED"),
        ("bye", "pt_BR", "PAUSED"),
    ]
    assert peer.requests[0].url.path == f"/{VERSION}/{WABA_ID}/message_templates"
    assert "after" not in peer.requests[0].url.params and peer.requests[1].url.params["after"] == "MQ"
