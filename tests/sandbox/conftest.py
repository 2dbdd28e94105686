"""Fixtures: a Meta sandbox wired to a recording webhook receiver, and a Graph client pointed at the sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from helpline.sandbox.meta import MetaSandbox, create_sandbox_app

APP_SECRET = "test-app-secret-ü"  # non-ASCII on purpose: the key is used as UTF-8 bytes


@dataclass
class Receiver:
    """Helpline's side of the webhook, reduced to: check both signatures over the raw bytes, record."""

    secret: str
    status: int = 200
    bodies: list[bytes] = field(default_factory=list)
    valid: list[bool] = field(default_factory=list)

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(b) for b in self.bodies]

    async def endpoint(self, request: Request) -> PlainTextResponse:
        body = await request.body()
        key = self.secret.encode()
        sha256 = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        sha1 = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
        self.valid.append(
            hmac.compare_digest(sha256, request.headers.get("x-hub-signature-256", ""))
            and hmac.compare_digest(sha1, request.headers.get("x-hub-signature", ""))
        )
        self.bodies.append(body)
        return PlainTextResponse("EVENT_RECEIVED", status_code=self.status)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver(APP_SECRET)


@pytest.fixture
async def sandbox(receiver: Receiver) -> AsyncIterator[MetaSandbox]:
    hook_app = Starlette(routes=[Route("/webhooks/meta", receiver.endpoint, methods=["POST"])])
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=hook_app), base_url="http://helpline.test")
    sb = MetaSandbox(
        app_secret=APP_SECRET,
        callback_url="http://helpline.test/webhooks/meta",
        http=http,
        public_url="http://graph.test",
        status_delay=0,
    )
    sb.webhooks.retry_delay = 0
    try:
        yield sb
    finally:
        await sb.aclose()
        await http.aclose()


@pytest.fixture
async def graph(sandbox: MetaSandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_sandbox_app(sandbox))
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test/v21.0") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
