"""Meta webhooks: the signature over the raw bytes, the JSON envelope, and which channel each part is for."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from helpline.channels.base import PayloadInvalid, WebhookRejected
from helpline.platform.crypto import verify_sha256_signature

SIGNATURE_HEADER = "x-hub-signature-256"

# `object` of the envelope → Helpline channel kind (one callback URL serves all three products).
OBJECT_KINDS = {"whatsapp_business_account": "whatsapp", "page": "messenger", "instagram": "instagram"}


def verify_signature(app_secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """HMAC-SHA256 of the raw body with the app secret, compared in constant time.

    Never re-serialise parsed JSON to check it: Meta signs its escaped (\\uXXXX) bytes, so a re-encoding
    only breaks for senders with non-ASCII names — the bug that slips through every ASCII-only test.
    """
    if not app_secret:
        raise WebhookRejected("HELPLINE_META_APP_SECRET is not configured; Meta webhooks cannot be verified")
    lowered = {k.lower(): v for k, v in headers.items()}
    if not verify_sha256_signature(app_secret, body, lowered.get(SIGNATURE_HEADER)):
        raise WebhookRejected("missing or invalid X-Hub-Signature-256")


def load_envelope(body: bytes) -> dict[str, Any]:
    """The webhook body as a dict with an `entry` list. Raises PayloadInvalid (not JSON, or not that shape)."""
    try:
        # `NaN` / `Infinity` are not JSON (RFC 8259 §6) yet Python's parser takes them; as floats they would
        # make PostgreSQL refuse the stored event and with it the whole delivery. Kept as their text.
        payload = json.loads(body, parse_constant=str)
    except (ValueError, UnicodeDecodeError):
        raise PayloadInvalid("the body is not valid JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("entry", []), list):
        raise PayloadInvalid("expected a JSON object with an `entry` list")
    return payload


@dataclass(frozen=True)
class Routed:
    """A part of one webhook for one channel: the channel setting that names it, and the entry to parse."""

    setting: str  # phone_number_id | waba_id | page_id | ig_account_id
    value: str
    entry: dict[str, Any]


def entries(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [e for e in payload.get("entry") or [] if isinstance(e, dict)]


def items(container: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = container.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def obj(container: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The object under `key`, or an empty one: payload fields are never trusted to have their documented type."""
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def from_seconds(value: Any) -> datetime | None:
    """WhatsApp timestamps: strings of Unix seconds."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def from_millis(value: Any) -> datetime | None:
    """Messenger / Instagram timestamps: integers of Unix milliseconds."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
