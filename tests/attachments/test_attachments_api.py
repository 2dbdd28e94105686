"""Attachment downloads: auth and visibility, safe headers, and signed public URLs."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest

from helpline.delivery.handlers import signed_attachment_url
from helpline.runtime import Runtime
from tests.conftest import World
from tests.support import post_inbound

HTML = b"<html><script>alert(1)</script></html>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


async def _attachment(client: httpx.AsyncClient, world: World, filename: str, kind: str, data: bytes) -> dict[str, Any]:
    response = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        message_id=f"m-{filename}",
        attachments=[{"filename": filename, "content_type": kind, "data": base64.b64encode(data).decode()}],
    )
    assert response.status_code == 200, response.text
    conversation_id = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"][0]["id"]
    messages = (
        await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=world.admin.headers)
    ).json()["items"]
    (attachment,) = [a for m in messages for a in m["attachments"] if a["filename"] == filename]
    result: dict[str, Any] = attachment
    return result


async def test_download_needs_auth_and_visibility(client: httpx.AsyncClient, world: World) -> None:
    attachment = await _attachment(client, world, "photo.png", "image/png", PNG)
    url = attachment["url"]
    ok = await client.get(url, headers=world.agent.headers)
    assert ok.status_code == 200 and ok.content == PNG
    for persona in (world.supervisor, world.admin):
        assert (await client.get(url, headers=persona.headers)).status_code == 200
    assert (await client.get(url, headers=world.outsider.headers)).status_code == 404
    assert (await client.get("/api/v1/attachments/999999/content", headers=world.admin.headers)).status_code == 404
    client.cookies.clear()
    assert (await client.get(url)).status_code == 401


async def test_images_are_inline_with_nosniff(client: httpx.AsyncClient, world: World) -> None:
    attachment = await _attachment(client, world, "photo.png", "image/png", PNG)
    response = await client.get(attachment["url"], headers=world.agent.headers)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("filename", "kind", "data"),
    [
        ("page.txt", "text/plain", HTML),
        ("report.pdf", "application/pdf", b"%PDF-1.4"),
        ("x.svg", "image/svg+xml", b"<svg/>"),
    ],
)
async def test_other_types_are_downloads_as_octet_stream(
    client: httpx.AsyncClient, world: World, filename: str, kind: str, data: bytes
) -> None:
    attachment = await _attachment(client, world, filename, kind, data)
    response = await client.get(attachment["url"], headers=world.agent.headers)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")
    assert filename in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_signed_public_url(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    attachment = await _attachment(client, world, "report.pdf", "application/pdf", b"%PDF-1.4 signed")
    client.cookies.clear()
    signed = signed_attachment_url(runtime, attachment["id"]).removeprefix(runtime.settings.base_url)
    ok = await client.get(signed)
    assert ok.status_code == 200
    assert ok.content == b"%PDF-1.4 signed"
    assert ok.headers["content-type"] == "application/octet-stream"
    assert ok.headers["x-content-type-options"] == "nosniff"

    path, query = signed.split("?")
    params = dict(pair.split("=") for pair in query.split("&"))
    tampered_sig = params["sig"][:-1] + ("0" if params["sig"][-1] != "0" else "1")
    cases = {
        "tampered signature": f"{path}?expires={params['expires']}&sig={tampered_sig}",
        "later expiry": f"{path}?expires={int(params['expires']) + 3600}&sig={params['sig']}",
        "other attachment": f"/api/v1/attachments/{attachment['id'] + 1}/public?"
        f"expires={params['expires']}&sig={params['sig']}",
    }
    for case, url in cases.items():
        response = await client.get(url)
        assert response.status_code == 403, case
        assert response.json()["error"]["code"] == "bad_signature", case

    past = int(time.time()) - 10
    public_path = f"/api/v1/attachments/{attachment['id']}/public"
    expired = await client.get(f"{public_path}?expires={past}&sig={runtime.signer.sign(public_path, past)}")
    assert expired.status_code == 403
    assert (await client.get(public_path)).status_code == 422  # no signature at all


# ---------------------------------------------------------------- declared type against the bytes


async def test_an_image_whose_bytes_are_html_is_refused_on_upload(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    inbound = await post_inbound(client, world.channel_id, world.channel_secret, text="hi", message_id="m-0")
    assert inbound.status_code == 200
    conversation_id = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"][0]["id"]
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data={"text": "see"},
        files=[("files", ("cute.png", HTML, "image/png"))],
        headers=world.agent.headers,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "attachment_type_mismatch"
    assert "text/html" in error["message"]
    files = [p for p in runtime.settings.attachments_dir.rglob("*") if p.is_file()]
    assert files == []


async def test_a_received_image_whose_bytes_are_html_is_kept_as_a_failed_attachment(
    client: httpx.AsyncClient, world: World
) -> None:
    """The customer's words are kept; the file is not stored and says why."""
    attachment = await _attachment(client, world, "cute.png", "image/png", HTML)
    assert attachment["state"] == "failed"
    assert "text/html" in (attachment.get("error") or "")


async def test_a_stored_image_whose_bytes_are_not_an_image_is_served_as_a_download(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    """Files stored before the check existed: the bytes are sniffed again when served."""
    from sqlalchemy import update

    from helpline.attachments.models import Attachment

    attachment = await _attachment(client, world, "notes.txt", "text/plain", HTML)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Attachment).where(Attachment.id == attachment["id"]).values(content_type="image/png")
        )
    response = await client.get(attachment["url"], headers=world.agent.headers)
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("declared", "data", "ok"),
    [
        ("image/png", PNG, True),
        ("image/jpeg", PNG, False),
        ("image/jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", True),
        ("image/gif", b"GIF89a" + b"\x00" * 10, True),
        ("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 8, True),
        ("image/png", b"GIF89a" + b"\x00" * 10, False),
        ("application/pdf", b"%PDF-1.7\n", True),
        ("application/pdf", HTML, False),
        ("text/plain", HTML, True),  # never inline: the label is kept, the file is a download
        ("image/svg+xml", b"<svg/>", True),  # never inline
    ],
)
def test_declared_type_against_the_bytes(declared: str, data: bytes, ok: bool) -> None:
    from helpline.platform.filetypes import TypeMismatch, check_declared_type

    if ok:
        check_declared_type(data, declared)
    else:
        with pytest.raises(TypeMismatch):
            check_declared_type(data, declared)
