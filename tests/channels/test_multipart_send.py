"""A reply that goes out in several provider requests (text + file): each accepted part is recorded with its
provider id, and a retry continues with what is left — the customer never receives the text twice."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from helpline.conversations.models import Message
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.channels.meta_support import (
    PSID,
    fixture,
    fresh,
    graph_error,
    meta_settings,
    meta_world,
    only_conversation,
    post_webhook,
    wa_text,
)
from tests.conftest import drain
from tests.platform.fake_peer import Peer


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    result: Settings = meta_settings(tmp_path, db_url)
    return result


async def _deliver(runtime: Runtime, message_id: int) -> Message:
    """Run the worker until the reply is settled (retries wait a few milliseconds of backoff)."""
    for _ in range(50):
        await drain(runtime)
        async with runtime.db.reads() as session:
            message = await session.get(Message, message_id)
        assert message is not None
        if message.delivery_state != "queued":
            return message
        await asyncio.sleep(0.05)
    raise AssertionError("the reply was never settled")


# Real leading bytes: uploads are checked against their declared type.
CONTENT = {"audio/ogg": b"OggS\x00\x02" + bytes(40), "application/pdf": b"%PDF-1.4\n%receipt\n"}


async def _reply_with_file(
    client: httpx.AsyncClient, headers: dict[str, str], conversation_id: int, name: str, kind: str
) -> int:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data={"text": "Segue o comprovante"},
        files={"files": (name, CONTENT[kind], kind)},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    message_id: int = response.json()["id"]
    return message_id


def _wa_sent(wamid: str) -> httpx.Response:
    return httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": wamid}]})


async def test_whatsapp_text_is_not_resent_when_the_media_upload_fails_once(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    assert (await post_webhook(client, wa_text("wamid.IN1", "preciso do comprovante"))).status_code == 200
    conversation = await only_conversation(client, world)
    peer.script = [
        _wa_sent("wamid.TEXT"),  # the text (audio takes no caption, so it goes first)
        graph_error(2, "Service temporarily unavailable", status=503, is_transient=True),  # the upload
        httpx.Response(200, json={"id": "MEDIA-9"}),  # the retried upload
        _wa_sent("wamid.AUDIO"),
    ]
    message_id = await _reply_with_file(client, world.admin.headers, conversation["id"], "nota.ogg", "audio/ogg")

    message = await _deliver(runtime, message_id)

    sends = [json.loads(r.content) for r in peer.requests if r.url.path.endswith("/messages")]
    assert [s["type"] for s in sends] == ["text", "audio"]
    assert (message.delivery_state, message.provider_message_id) == ("sent", "wamid.TEXT")
    assert message.content["parts"] == {"text": "wamid.TEXT", "file:0": "wamid.AUDIO"}


async def test_messenger_text_is_not_resent_when_the_attachment_upload_fails_once(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    world = await meta_world(runtime, client, "messenger")
    assert (await post_webhook(client, fresh(fixture("messenger", "text")))).status_code == 200
    conversation = await only_conversation(client, world)
    peer.script = [
        httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_TEXT"}),
        graph_error(2, "Service temporarily unavailable", status=503, is_transient=True),
        httpx.Response(200, json={"attachment_id": "ATT-1"}),
        httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_FILE"}),
    ]
    message_id = await _reply_with_file(
        client, world.admin.headers, conversation["id"], "recibo.pdf", "application/pdf"
    )

    message = await _deliver(runtime, message_id)

    texts = [r for r in peer.requests if r.url.path.endswith("/messages") and b'"text"' in r.content]
    assert len(texts) == 1
    assert (message.delivery_state, message.provider_message_id) == ("sent", "m_TEXT")
    assert message.content["parts"] == {"text": "m_TEXT", "file:0": "m_FILE"}
