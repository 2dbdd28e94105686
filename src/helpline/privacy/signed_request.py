"""Meta's `signed_request`: `<b64url(sig)>.<b64url(payload)>`, HMAC-SHA256 over the *encoded* payload."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


class SignedRequestInvalid(Exception):
    """Malformed, forged, or signed with an algorithm other than HMAC-SHA256."""


def b64url_decode(value: str) -> bytes:
    # Meta sends URL-safe base64 without padding.
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SignedRequestInvalid("not base64url") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_signed_request(value: str, app_secret: str) -> dict[str, Any]:
    """Verify and decode; see Meta's app-dashboard/data-deletion-callback page."""
    if not app_secret:
        raise SignedRequestInvalid("HELPLINE_META_APP_SECRET is not configured")
    encoded_sig, sep, encoded_payload = value.strip().partition(".")
    if not sep or not encoded_sig or not encoded_payload:
        raise SignedRequestInvalid("expected <signature>.<payload>")
    signature = b64url_decode(encoded_sig)
    expected = hmac.new(app_secret.encode(), encoded_payload.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise SignedRequestInvalid("signature does not match")
    try:
        payload = json.loads(b64url_decode(encoded_payload))
    except ValueError as exc:
        raise SignedRequestInvalid("payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise SignedRequestInvalid("payload is not an object")
    # Checked after the HMAC so an attacker learns nothing from which check failed first.
    if str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise SignedRequestInvalid("unsupported algorithm")
    return payload


def make_signed_request(payload: dict[str, Any], app_secret: str) -> str:
    """Build one as Meta does (for the sandbox and tests)."""
    encoded_payload = b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(app_secret.encode(), encoded_payload.encode(), hashlib.sha256).digest()
    return f"{b64url_encode(signature)}.{encoded_payload}"
