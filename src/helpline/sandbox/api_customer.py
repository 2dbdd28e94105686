"""The demo's far end of the API channel: receives Helpline's signed replies like a customer's system would."""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from fastapi import APIRouter, Request

from helpline.auth.dependencies import RuntimeDep
from helpline.channels.actions import channel_config
from helpline.channels.models import Channel
from helpline.platform.crypto import verify_sha256_signature
from helpline.platform.errors import NotFound, Unauthorized

log = logging.getLogger(__name__)
router = APIRouter(prefix="/sandbox/api-customer", include_in_schema=False)

# Replies received, newest last, with deduplication by idempotency key (as a real receiver should do).
received: deque[dict[str, Any]] = deque(maxlen=500)
_seen_keys: set[str] = set()


@router.post("/{channel_id}/callback")
async def callback(channel_id: int, request: Request, runtime: RuntimeDep) -> dict[str, str]:
    body = await request.body()
    async with runtime.db.sessions() as session:
        channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("no such channel")
    secret = str(channel_config(channel, runtime.box).credentials.get("secret", ""))
    if not verify_sha256_signature(secret, body, request.headers.get("x-helpline-signature")):
        raise Unauthorized("bad signature", code="bad_signature")
    key = request.headers.get("idempotency-key", "")
    if key and key not in _seen_keys:
        _seen_keys.add(key)
        received.append({"idempotency_key": key, "body": body.decode()})
        log.info("simulated customer system received reply %s", key)
    return {"id": f"sandbox-{key}"}
