"""Per-channel reply limits: the numbers each adapter declares, served before sending and enforced up front."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.conversations.schemas import ReplyCreate
from helpline.engagement.reply_limits import REPLY_TEXT_MAX
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.channels.meta_support import (
    CHANNELS,
    TOKEN,
    MetaWorld,
    fixture,
    fresh,
    messages_of,
    meta_settings,
    meta_world,
    only_conversation,
    post_webhook,
    wa_text,
)
from tests.conftest import drain
from tests.platform.fake_peer import Peer

MB = 1024 * 1024
SERVER_MAX = 25 * MB  # Settings.max_attachment_bytes by default


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    result: Settings = meta_settings(tmp_path, db_url)
    return result


async def add_channel(runtime: Runtime, mw: MetaWorld, kind: str, **settings: Any) -> int:
    async with runtime.db.transaction() as session:
        channel, _ = await create_channel(
            session,
            ChannelCreate(
                kind=kind,
                name=f"More {kind}",
                settings={**CHANNELS.get(kind, {}), **settings},
                credentials={"access_token": TOKEN} if kind in CHANNELS else {},
                member_ids=[mw.agent.id],
            ),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    return channel.id


def window(after_close: str, human: int | None) -> dict[str, Any]:
    return {
        "after_close": after_close,
        "free_form_seconds": 24 * 3600,
        "human_seconds": human,
        "closing_warning_seconds": 3600,
    }


async def test_each_channel_kind_serves_its_providers_limits(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw = await meta_world(runtime, client, "whatsapp", outsider=True)
    ids = {
        "whatsapp": mw.channel_id,
        "messenger": await add_channel(runtime, mw, "messenger"),
        "instagram": await add_channel(runtime, mw, "instagram"),
        "api": await add_channel(runtime, mw, "api", bot_enabled=False),
    }
    got = {}
    for kind, channel_id in ids.items():
        response = await client.get(f"/api/v1/channels/{channel_id}/limits", headers=mw.agent.headers)
        assert response.status_code == 200, response.text
        got[kind] = response.json()
        assert (got[kind]["channel_id"], got[kind]["kind"], got[kind]["max_files"]) == (channel_id, kind, 10)
        assert got[kind]["accepted_content_types"] == runtime.settings.allowed_attachment_types
    whatsapp, messenger, instagram, api = got["whatsapp"], got["messenger"], got["instagram"], got["api"]
    assert (whatsapp["provider"], whatsapp["max_text_length"], whatsapp["max_attachment_bytes"]) == (
        "WhatsApp", 4096, SERVER_MAX  # documents may be 100 MB at Meta; the server's 25 MB cap wins
    )  # fmt: skip
    assert whatsapp["attachment_rules"] == [
        {"kind": "image", "content_types": ["image/jpeg", "image/png"], "max_bytes": 5 * MB},
        {"kind": "video", "content_types": ["video/mp4", "video/3gpp"], "max_bytes": 16 * MB},
        {"kind": "audio", "content_types": ["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"],
         "max_bytes": 16 * MB},
        {"kind": "document", "content_types": ["*/*"], "max_bytes": SERVER_MAX},
    ]  # fmt: skip
    assert (whatsapp["window_kind"], whatsapp["window"]) == ("templates", window("templates", None))
    assert (whatsapp["templates_available"], whatsapp["templates_required_after_window"]) == (True, True)

    assert (messenger["max_text_length"], messenger["max_attachment_bytes"]) == (1999, 25 * MB)
    assert messenger["attachment_rules"] == [{"kind": "file", "content_types": ["*/*"], "max_bytes": 25 * MB}]
    assert (messenger["window_kind"], messenger["window"]) == ("human_agent", window("human_agent", 7 * 86400))
    assert messenger["templates_available"] is False

    assert (instagram["max_text_length"], instagram["max_attachment_bytes"]) == (999, 25 * MB)
    assert [(r["kind"], r["max_bytes"]) for r in instagram["attachment_rules"]] == [
        ("image", 8 * MB), ("audio", 25 * MB), ("video", 25 * MB)
    ]  # fmt: skip
    assert instagram["window_kind"] == "human_agent"

    assert (api["provider"], api["max_text_length"], api["max_attachment_bytes"]) == (
        "The API channel", REPLY_TEXT_MAX, SERVER_MAX
    )  # fmt: skip
    assert (api["attachment_rules"], api["window_kind"], api["window"], api["templates_available"]) == (
        [], "none", None, False
    )  # fmt: skip

    assert mw.outsider is not None
    hidden = await client.get(f"/api/v1/channels/{mw.channel_id}/limits", headers=mw.outsider.headers)
    assert hidden.status_code == 404
    missing = await client.get("/api/v1/channels/999999/limits", headers=mw.admin.headers)
    assert missing.status_code == 404


def test_the_api_text_bound_matches_the_reply_schema() -> None:
    assert ReplyCreate.model_fields["text"].metadata[0].max_length == REPLY_TEXT_MAX


async def test_whatsapp_refuses_long_text_and_big_images_up_front(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    await post_webhook(client, wa_text("wamid.IN1", "oi"))
    conversation_id = (await only_conversation(client, mw))["id"]
    url = f"/api/v1/conversations/{conversation_id}/messages"
    too_long = await client.post(url, json={"text": "x" * 4097}, headers=mw.agent.headers)
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "text_too_long"
    assert "WhatsApp accepts at most 4096 characters" in too_long.json()["error"]["message"]
    big = await client.post(
        url, files={"files": ("photo.png", b"\x89PNG" + b"0" * (5 * MB), "image/png")}, headers=mw.agent.headers
    )
    assert big.status_code == 422
    assert big.json()["error"] == {
        "code": "attachment_too_large",
        "message": "photo.png is 5.0 MB; WhatsApp accepts image files up to 5 MB",
        "details": {"provider": "WhatsApp"},
    }
    assert len(await messages_of(client, mw, conversation_id)) == 1
    peer.default = httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]})
    fits = await client.post(url, json={"text": "x" * 4096}, headers=mw.agent.headers)
    assert fits.status_code == 201
    await drain(runtime)
    assert len(peer.requests) == 1


async def test_instagram_refuses_a_file_type_it_cannot_send_up_front(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mw = await meta_world(runtime, client, "instagram")
    await post_webhook(client, fresh(fixture("instagram", "text")))
    conversation_id = (await only_conversation(client, mw))["id"]
    # A PDF is fine for the server (and would be for the API channel), but Instagram sends images, audio and video.
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data={"text": "segue o contrato"},
        files={"files": ("contrato.pdf", b"%PDF-1.4 test", "application/pdf")},
        headers=mw.agent.headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "attachment_type"
    assert error["message"] == (
        "Instagram cannot send contrato.pdf (application/pdf); it accepts image/png, image/jpeg, image/gif, "
        "audio/*, video/*"
    )
    assert len(await messages_of(client, mw, conversation_id)) == 1
