"""The bare ceiling app: a raw ASGI app that does the least an accept-fast webhook route must do.

Per request: read the body, verify `X-Helpline-Signature: sha256=<hex HMAC of the body>` (401 otherwise),
parse the JSON (400 otherwise), one INSERT of the raw body into `ceiling_inbound` through an asyncpg pool,
answer 200. No framework, no ORM: what Helpline's inbound route is compared with (issue 8).

    HELPLINE_CEILING_DSN=postgresql://… HELPLINE_CEILING_SECRET=… uvicorn bench.ingest.ceiling:app
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

import asyncpg

_state: dict[str, Any] = {}

SCHEMA = """
CREATE TABLE IF NOT EXISTS ceiling_inbound (
    id BIGSERIAL PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    body BYTEA NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            pool = await asyncpg.create_pool(os.environ["HELPLINE_CEILING_DSN"], min_size=4, max_size=32)
            await pool.execute(SCHEMA)
            _state["pool"] = pool
            _state["secret"] = os.environ["HELPLINE_CEILING_SECRET"].encode()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _state["pool"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    signature = dict(scope["headers"]).get(b"x-helpline-signature", b"").decode("latin-1")
    expected = "sha256=" + hmac.new(_state["secret"], body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        await _answer(send, 401, b'{"error":"bad_signature"}')
        return
    try:
        json.loads(body)
    except ValueError:
        await _answer(send, 400, b'{"error":"bad_payload"}')
        return
    channel_id = int(scope["path"].rstrip("/").split("/")[-2])
    await _state["pool"].execute("INSERT INTO ceiling_inbound (channel_id, body) VALUES ($1, $2)", channel_id, body)
    await _answer(send, 200, b'{"ok":true}')
