"""Signed webhook delivery from the fake Meta to Helpline: exact bytes, both signatures, order, retries, batches."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from helpline.sandbox.meta.state import Delivery

log = logging.getLogger(__name__)


def encode_body(payload: dict[str, Any], *, escape_slashes: bool = True) -> bytes:
    """Meta signs "an escaped unicode version of the payload": non-ASCII as lowercase \\uXXXX, `/` often as `\\/`."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    if escape_slashes:
        # Only strings can hold "/" in JSON, and "\/" is a valid escape there, so this keeps the JSON equal.
        text = text.replace("/", "\\/")
    return text.encode("ascii")


def signature_headers(app_secret: str, body: bytes) -> dict[str, str]:
    """Both headers Meta sends: X-Hub-Signature-256 (sha256) and the legacy X-Hub-Signature (sha1)."""
    key = app_secret.encode()
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
    }


@dataclass
class _Queued:
    obj: str
    entries: list[dict[str, Any]]
    delay: float


class WebhookSender:
    """Posts webhooks to `callback_url`. Immediate ones are awaited; follow-ups (statuses, echoes) go through an
    ordered background queue so the Graph call that caused them has answered first, as with the real Meta."""

    def __init__(
        self,
        *,
        app_secret: str,
        callback_url: str | None,
        http: httpx.AsyncClient | None = None,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        escape_slashes: bool = True,
    ) -> None:
        self.app_secret = app_secret
        self.callback_url = callback_url
        self.http = http
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.escape_slashes = escape_slashes
        self.deliveries: list[Delivery] = []
        self._queue: asyncio.Queue[_Queued] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._batch: list[tuple[str, dict[str, Any]]] | None = None
        self._owns_http = http is None

    def build(self, payload: dict[str, Any]) -> Delivery:
        body = encode_body(payload, escape_slashes=self.escape_slashes)
        return Delivery(body=body, headers=signature_headers(self.app_secret, body))

    async def emit(self, obj: str, entries: list[dict[str, Any]], *, delay: float | None = None) -> Delivery | None:
        """Send now (delay None), or queue behind earlier follow-ups; inside `batched()` collect instead."""
        if self._batch is not None:
            self._batch.extend((obj, entry) for entry in entries)
            return None
        if delay is None:
            return await self.post(self.build({"object": obj, "entry": entries}))
        self._ensure_worker()
        assert self._queue is not None
        await self._queue.put(_Queued(obj, entries, delay))
        return None

    @contextlib.asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """Everything emitted inside goes out as one POST per object type, with several `entry` items."""
        self._batch = []
        try:
            yield
        finally:
            batch, self._batch = self._batch, None
        by_object: dict[str, list[dict[str, Any]]] = {}
        for obj, entry in batch:
            by_object.setdefault(obj, []).append(entry)
        for obj, entries in by_object.items():
            await self.emit(obj, entries)

    async def post(self, delivery: Delivery) -> Delivery:
        """POST the exact bytes; a non-2xx answer or a network error is retried, as Meta does."""
        self.deliveries.append(delivery)
        if not self.callback_url:
            return delivery
        client = self._client()
        for attempt in range(1, self.max_attempts + 1):
            delivery.attempts = attempt
            try:
                response = await client.post(self.callback_url, content=delivery.body, headers=delivery.headers)
                delivery.status, delivery.error = response.status_code, None
                if response.status_code < 300:
                    break
                delivery.error = response.text[:500]
            except httpx.HTTPError as exc:
                delivery.status, delivery.error = None, f"{type(exc).__name__}: {exc}"
            log.info("meta sandbox: webhook attempt %s failed: %s %s", attempt, delivery.status, delivery.error)
            if attempt < self.max_attempts:
                await asyncio.sleep(self.retry_delay * attempt)
        return delivery

    async def resend(self, delivery: Delivery) -> Delivery:
        """A retry of an earlier event: the same bytes and signatures, as Meta's redelivery is."""
        return await self.post(Delivery(body=delivery.body, headers=dict(delivery.headers)))

    async def drain(self, within: float = 10.0) -> None:
        """Wait until every queued follow-up has been delivered (tests call it instead of sleeping)."""
        if self._queue is not None:
            await asyncio.wait_for(self._queue.join(), within)

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._owns_http and self.http is not None:
            await self.http.aclose()
            self.http = None

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=20)  # Meta gives a webhook 20 s (Messenger FAQ)
        return self.http

    def _ensure_worker(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="meta-sandbox-webhooks")

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            try:
                await asyncio.sleep(item.delay)
                await self.post(self.build({"object": item.obj, "entry": item.entries}))
            except Exception:
                log.exception("meta sandbox: follow-up webhook failed")
            finally:
                self._queue.task_done()
