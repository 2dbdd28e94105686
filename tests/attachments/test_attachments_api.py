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
