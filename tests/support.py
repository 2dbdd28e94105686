"""Test helpers shared across test modules: signing and posting API-channel messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from helpline.platform.crypto import sign_header


def outbox_payloads(rows: Iterable[Any], topic: str) -> list[dict[str, Any]]:
    """The payloads of outbox rows of `topic`, a batch's bundle row (`{"bundle": [...]}`) expanded in order."""
    payloads: list[dict[str, Any]] = []
    for row in rows:
        if row.topic == topic:
            payloads.extend(row.payload.get("bundle", [row.payload]))
    return payloads


def signed_inbound(secret: str, payload: dict[str, Any], *, wait: bool = True) -> tuple[bytes, dict[str, str]]:
    """Body and headers of a signed API-channel message. `wait`: ask for the stored message ids back
    (`Prefer: return=representation`, ingested before the answer) instead of the accept-fast answer."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Helpline-Signature": sign_header(secret, body)}
    if wait:
        headers["Prefer"] = "return=representation"
    return body, headers


async def post_inbound(
    client: httpx.AsyncClient,
    channel_id: int,
    secret: str,
    *,
    contact_id: str = "c-1",
    name: str = "Ana",
    message_id: str = "m-1",
    text: str = "hello",
    **message: Any,
) -> httpx.Response:
    body, headers = signed_inbound(
        secret, {"contact": {"id": contact_id, "name": name}, "message": {"id": message_id, "text": text, **message}}
    )
    return await client.post(f"/api/v1/channels/{channel_id}/inbound", content=body, headers=headers)
