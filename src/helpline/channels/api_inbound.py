"""The API channel's signed inbound, accept fast: verify, check, store the raw body with one statement.

Shared by the raw ASGI endpoint in front of the middleware (`channels/inbound_asgi.py`, the hot path) and the
FastAPI route (`channels/api.py`, for `Prefer: return=representation` and anything unusual), so both answer
the same. Per request in the steady state: no SELECT (the channel and its decrypted secret come from
`SigningCache`), an HMAC check, a JSON validation, and one INSERT guarded by the channel's version.
"""

from __future__ import annotations

from collections.abc import Mapping

from helpline.channels.base import PayloadInvalid, WebhookRejected
from helpline.channels.signing_cache import ChannelKeys, SigningCache
from helpline.conversations.raw_accept import accept_if_current
from helpline.platform.errors import Conflict, Invalid, NotFound, Unauthorized, Unavailable, UnsupportedMediaType
from helpline.runtime import Runtime

# Rounds of check + guarded INSERT when the channel changes in between (each change costs one round).
ATTEMPTS = 3


async def checked_channel(
    runtime: Runtime, cache: SigningCache, channel_id: int, headers: Mapping[str, str], body: bytes
) -> ChannelKeys:
    """The channel once the body is verified and acceptable: signature (constant time) against the channel's
    current secret, channel enabled, rate limit, body valid. `headers` have lower-case names.

    Raises NotFound (404 no API channel with that id), Unauthorized (401 `bad_signature`),
    UnsupportedMediaType (415 unless `Content-Type: application/json`), Conflict (409 `channel_disabled`),
    RateLimited (429 with retry_after), Invalid (422 `bad_payload`)."""
    keys = await cache.get(channel_id)
    if keys is not None and not _signed(keys, headers, body):
        # Maybe the secret was rotated since this process read it: judge by the stored one.
        keys = await cache.reload(channel_id)
    if keys is None or keys.kind != "api":
        raise NotFound("no such API channel")
    try:
        keys.adapter.verify_webhook(headers, body)
    except WebhookRejected as exc:
        runtime.metrics.webhook_rejections.labels(keys.kind, "signature").inc()
        raise Unauthorized(str(exc), code="bad_signature") from None
    check_json_content_type(headers)
    if keys.status == "disabled":
        # Cached as disabled: make sure it still is before refusing (it may have been enabled again).
        fresh = await cache.reload(channel_id)
        if fresh is None:
            raise NotFound("no such API channel")
        if fresh.status == "disabled":
            raise Conflict("this channel is disabled", code="channel_disabled")
        return await checked_channel(runtime, cache, channel_id, headers, body)
    # Counted only once signed: a stranger's flood must not use up the channel's allowance.
    await runtime.rate_limits.inbound_channel.enforce(str(channel_id), "this channel sent too many messages")
    try:
        # Parsed here only to refuse a malformed body with 422 while the sender can still fix it; the
        # workers parse the logged body again.
        keys.adapter.parse_webhook(body)
    except PayloadInvalid as exc:
        runtime.metrics.webhook_rejections.labels(keys.kind, "payload").inc()
        raise Invalid(str(exc), code="bad_payload") from None
    return keys


def check_json_content_type(headers: Mapping[str, str]) -> None:
    """Refuse (415 `unsupported_media_type`) a body not declared as JSON: `application/json`, optionally with
    `charset=utf-8` (RFC 8259 §8.1: JSON exchanged between systems is UTF-8). A sender posting `text/plain`
    or a form has a bug worth seeing, not a body we guess at. `headers` have lower-case names."""
    declared = headers.get("content-type", "")
    media, _, parameters = declared.partition(";")
    if media.strip().lower() == "application/json":
        pairs = (p.partition("=") for p in parameters.split(";") if p.strip())
        charsets = {value.strip().strip('"').lower() for name, _, value in pairs if name.strip().lower() == "charset"}
        if charsets <= {"utf-8", "utf8"}:
            return
    raise UnsupportedMediaType(
        f"the body must be sent as Content-Type: application/json (UTF-8); this request declared "
        f"{declared.strip()[:100] or 'no Content-Type'}",
        code="unsupported_media_type",
    )


def _signed(keys: ChannelKeys, headers: Mapping[str, str], body: bytes) -> bool:
    try:
        keys.adapter.verify_webhook(headers, body)
    except WebhookRejected:
        return False
    return True


async def accept_api_inbound(
    runtime: Runtime, cache: SigningCache, channel_id: int, headers: Mapping[str, str], body: bytes
) -> dict[str, object]:
    """Verify and store one API-channel webhook: `{"status": "accepted", "inbound_event_id": id,
    "duplicate": bool}` — a byte-identical body still waiting in the log answers that row's id with
    `duplicate: true` (message-level dedupe by message.id happens when the row is ingested). Raises what
    `checked_channel` raises, and Unavailable (503, retry) in the unlikely case the channel keeps changing
    while the body is accepted."""
    for _ in range(ATTEMPTS):
        keys = await checked_channel(runtime, cache, channel_id, headers, body)
        accepted = await accept_if_current(runtime, channel_id, keys.version, body)
        if accepted.current:
            return {"status": "accepted", "inbound_event_id": accepted.row_id, "duplicate": accepted.duplicate}
        # The channel changed after this process cached it: judge the request again by the stored row (a
        # rotated secret now refuses it, a disabled channel answers 409, a deleted one 404).
        await cache.reload(channel_id)
    raise Unavailable("the channel changed while the message was accepted; send it again", details={"retry_after": 1})
