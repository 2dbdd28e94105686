"""`GET|POST /webhooks/meta`: one callback URL for WhatsApp, Messenger and Instagram, dispatched by `object`.

The POST verifies the signature over the raw bytes, persists one transaction per event, and answers 200
fast: no bot and no Graph call inline (DESIGN §2). Parts for channels we do not know are logged, counted
and acknowledged, so Meta does not retry them for days.
"""

from __future__ import annotations

import hmac
import logging
from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from helpline.auth.dependencies import RuntimeDep
from helpline.channels.actions import channel_config
from helpline.channels.base import InboundEvent, PayloadInvalid, WebhookRejected
from helpline.channels.meta.adapter import MetaAdapter
from helpline.channels.meta.webhook import OBJECT_KINDS, load_envelope, verify_signature
from helpline.channels.models import Channel
from helpline.channels.registry import adapter_class, build_adapter
from helpline.conversations.ingest import IngestResult, ingest_events, park
from helpline.platform.errors import Forbidden, HelplineError, TooLarge, Unauthorized
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

router = APIRouter(tags=["meta"])

# Meta documents payloads up to 3 MB; anything larger is not from Meta and is refused before parsing.
MAX_BODY_BYTES = 4 * 1024 * 1024


class BadPayload(HelplineError):
    status_code = 400
    code = "bad_payload"


@router.get("/webhooks/meta", response_class=PlainTextResponse, responses={403: {"description": "wrong token"}})
async def verify_subscription(
    runtime: RuntimeDep,
    mode: str = Query("", alias="hub.mode"),
    verify_token: str = Query("", alias="hub.verify_token"),
    challenge: str = Query("", alias="hub.challenge"),
) -> PlainTextResponse:
    """Meta's subscription check when the callback URL is saved: echo hub.challenge if the token matches."""
    expected = runtime.settings.meta_verify_token
    if not expected or mode != "subscribe" or not hmac.compare_digest(verify_token.encode(), expected.encode()):
        raise Forbidden("hub.verify_token does not match HELPLINE_META_VERIFY_TOKEN", code="bad_verify_token")
    return PlainTextResponse(challenge)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge(f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooLarge(f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _channels_of(runtime: Runtime, kind: str) -> list[Channel]:
    # A handful of channels per kind: matching their settings here is simpler than JSON queries on two databases.
    async with runtime.db.sessions() as session:
        return list((await session.execute(select(Channel).where(Channel.kind == kind))).scalars())


@router.post(
    "/webhooks/meta",
    responses={
        400: {"description": "not JSON"},
        401: {"description": "bad or missing X-Hub-Signature-256; nothing stored"},
        413: {"description": "body over 4 MB"},
    },
)
async def receive(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    body = await _read_body(request)
    try:
        verify_signature(runtime.settings.meta_app_secret, dict(request.headers), body)
    except WebhookRejected as exc:
        runtime.metrics.webhook_rejections.labels("meta", "signature").inc()
        raise Unauthorized(str(exc), code="bad_signature") from None
    try:
        payload = load_envelope(body)
    except PayloadInvalid as exc:
        runtime.metrics.webhook_rejections.labels("meta", "payload").inc()
        raise BadPayload(str(exc)) from None
    kind = OBJECT_KINDS.get(str(payload.get("object")))
    if kind is None:
        log.warning("Meta webhook with unknown object %r ignored", str(payload.get("object"))[:40])
        runtime.metrics.webhook_rejections.labels("meta", "unknown_object").inc()
        return {"events": 0, "skipped": len(payload.get("entry") or [])}
    cls = adapter_class(kind)
    assert issubclass(cls, MetaAdapter)
    channels = await _channels_of(runtime, kind)
    per_channel: dict[int, list[InboundEvent]] = defaultdict(list)
    adapters: dict[int, MetaAdapter] = {}
    by_id = {c.id: c for c in channels}
    skipped = 0
    total = IngestResult()
    for routed in cls.route(payload):
        owners = [c for c in channels if str((c.settings or {}).get(routed.setting) or "") == routed.value]
        if not owners:
            skipped += 1
            runtime.metrics.webhook_rejections.labels(kind, "unknown_channel").inc()
            log.warning("Meta %s webhook for unknown %s %s skipped", kind, routed.setting, routed.value)
            continue
        for channel in owners:
            if channel.status == "disabled":
                continue
            if channel.id not in adapters:
                adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
                assert isinstance(adapter, MetaAdapter)
                adapters[channel.id] = adapter
            try:
                per_channel[channel.id].extend(adapters[channel.id].parse_entry(routed.entry))
            except Exception as exc:
                # An entry our parser chokes on is kept to retry (after a fix), not refused: a non-200 would
                # make Meta redeliver the whole batch, siblings included, for days.
                await park(runtime, channel, {"part": routed.entry}, exc)
                total.failed += 1
    count = 0
    for channel_id, events in per_channel.items():
        result = await ingest_events(runtime, by_id[channel_id], events)
        total.failed += result.failed
        count += len(events) - result.failed
    return {"events": count, "skipped": skipped, "failed": total.failed}


async def reparse_part(runtime: Runtime, channel: Channel, part: dict[str, Any]) -> list[InboundEvent]:
    """A parked webhook entry (see `park`), parsed again by its channel's adapter."""
    adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
    assert isinstance(adapter, MetaAdapter)
    return adapter.parse_entry(part)
