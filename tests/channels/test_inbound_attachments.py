"""Attachments on inbound API-channel messages: inline base64 stored at once, URLs fetched by the worker."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from helpline.attachments.models import Attachment
from helpline.conversations.models import Message
from helpline.runtime import Runtime
from tests.conftest import World, drain, make_settings, make_world
from tests.platform.fake_peer import Peer, api_client, running_app, runtime_of
from tests.support import post_inbound

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REMOTE = "http://93.184.216.34/files/report.pdf"
PDF = b"%PDF-1.4\n" + b"x" * 300


async def _attachments(runtime: Runtime) -> list[Attachment]:
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(Attachment).order_by(Attachment.id))).scalars())


async def _message_attachments(client: httpx.AsyncClient, world: World, message_id: int) -> list[dict[str, Any]]:
    listing = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()
    conversation_id = listing["items"][0]["id"]
    messages = (
        await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world.admin.headers)
    ).json()["items"]
    (message,) = [m for m in messages if m["id"] == message_id]
    attachments: list[dict[str, Any]] = message["attachments"]
    return attachments


async def test_base64_attachment_is_stored_at_once(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    response = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        text=None,
        attachments=[{"filename": "photo.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}],
    )
    assert response.status_code == 200, response.text
    (message_id,) = response.json()["message_ids"]
    # Stored inside the webhook's transaction, before any worker ran.
    (stored,) = await _attachments(runtime)
    assert (stored.state, stored.size, stored.filename, stored.content_type) == (
        "stored",
        len(PNG),
        "photo.png",
        "image/png",
    )
    assert stored.message_id == message_id
    (public,) = await _message_attachments(client, world, message_id)
    assert public["state"] == "stored"
    download = await client.get(public["url"], headers=world.agent.headers)
    assert download.status_code == 200
    assert download.content == PNG


async def test_url_attachment_is_fetched_by_the_worker(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    peer.default = httpx.Response(200, headers={"Content-Type": "application/pdf"}, content=PDF)
    response = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        text="see attached",
        attachments=[{"filename": "report.pdf", "content_type": "application/pdf", "url": REMOTE}],
    )
    assert response.status_code == 200, response.text
    (message_id,) = response.json()["message_ids"]
    (pending,) = await _attachments(runtime)
    assert (pending.state, pending.source_url, pending.storage_key) == ("pending", REMOTE, None)
    assert peer.requests == []  # never fetched inside the webhook request
    assert (await _message_attachments(client, world, message_id))[0]["state"] == "pending"

    await drain(runtime)

    assert [(r.method, str(r.url)) for r in peer.requests] == [("GET", REMOTE)]
    (stored,) = await _attachments(runtime)
    assert (stored.state, stored.size, stored.error) == ("stored", len(PDF), None)
    (public,) = await _message_attachments(client, world, message_id)
    assert public["state"] == "stored"
    assert public["size"] == len(PDF)
    download = await client.get(public["url"], headers=world.agent.headers)
    assert download.content == PDF


async def test_url_attachment_answered_with_404_fails_without_retrying(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    peer.default = httpx.Response(404, text="gone")
    response = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        attachments=[{"filename": "report.pdf", "content_type": "application/pdf", "url": REMOTE}],
    )
    assert response.status_code == 200
    await drain(runtime)
    assert len(peer.requests) == 1
    (failed,) = await _attachments(runtime)
    assert failed.state == "failed"
    assert failed.error == "download failed with HTTP 404"


async def test_url_attachment_retries_a_server_error_then_stores(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    peer.script = [httpx.Response(503, text="busy")]
    peer.default = httpx.Response(200, headers={"Content-Type": "application/pdf"}, content=PDF)
    response = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        attachments=[{"filename": "report.pdf", "content_type": "application/pdf", "url": REMOTE}],
    )
    assert response.status_code == 200
    for _ in range(50):
        await drain(runtime)
        if (await _attachments(runtime))[0].state != "pending":
            break
    assert len(peer.requests) == 2
    assert (await _attachments(runtime))[0].state == "stored"


@pytest.fixture
async def small_limit(
    tmp_path: Path, db_url: str, peer: Peer
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient, World]]:
    settings = make_settings(tmp_path, db_url, max_attachment_bytes=100)
    async with running_app(settings, peer) as application, api_client(application) as client:
        runtime = runtime_of(application)
        yield runtime, client, await make_world(runtime, client)


@pytest.mark.parametrize("declare_length", [True, False])
async def test_too_big_remote_file_ends_failed_with_a_reason(
    small_limit: tuple[Runtime, httpx.AsyncClient, World], peer: Peer, declare_length: bool
) -> None:
    runtime, client, world = small_limit
    big = b"x" * 5000

    def answer(request: httpx.Request) -> httpx.Response:
        if declare_length:
            return httpx.Response(200, headers={"Content-Type": "application/pdf"}, content=big)

        async def chunks() -> Any:
            for i in range(0, len(big), 500):
                yield big[i : i + 500]

        # No Content-Length: the limit must still hold while streaming.
        return httpx.Response(200, headers={"Content-Type": "application/pdf"}, content=chunks())

    peer.default = answer
    response = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        attachments=[{"filename": "huge.pdf", "content_type": "application/pdf", "url": REMOTE}],
    )
    assert response.status_code == 200, response.text
    await drain(runtime)
    assert len(peer.requests) == 1  # too large is permanent: no retry
    (failed,) = await _attachments(runtime)
    assert failed.state == "failed"
    assert failed.error is not None and "limit" in failed.error and "100" in failed.error
    assert failed.storage_key is None
    assert not any(p.is_file() for p in runtime.settings.attachments_dir.rglob("*"))


async def test_bad_base64_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    response = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        attachments=[{"filename": "photo.png", "content_type": "image/png", "data": "%%% not base64 %%%"}],
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_payload"
    assert "base64" in response.json()["error"]["message"]
    assert await _attachments(runtime) == []
    async with runtime.db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Message))).scalar_one() == 0


async def test_attachment_of_a_refused_type_is_recorded_failed_and_the_message_kept(
    client: httpx.AsyncClient, world: World, runtime: Runtime, peer: Peer
) -> None:
    for number, source in enumerate(({"data": base64.b64encode(b"<script>").decode()}, {"url": REMOTE})):
        response = await post_inbound(
            client,
            world.channel_id,
            world.channel_secret,
            message_id=f"m-{number}",
            text="here is the page",
            attachments=[{"filename": "page.html", "content_type": "text/html", **source}],
        )
        assert response.status_code == 200, response.text
    refused = await _attachments(runtime)
    assert [(a.state, a.storage_key) for a in refused] == [("failed", None), ("failed", None)]
    assert all(a.error and "text/html" in a.error and "not accepted" in a.error for a in refused)
    async with runtime.db.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Message))).scalar_one() == 2
    await drain(runtime)
    assert peer.requests == []  # a refused URL is never fetched
    assert not any(p.is_file() for p in runtime.settings.attachments_dir.rglob("*"))
