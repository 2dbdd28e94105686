"""Visitor sessions: a signed token kept by the browser, and the website's HMAC proof of a logged-in user's id.

The token is `base64url(json).signature` with an HMAC-SHA256 key derived for this purpose only; it names the
channel, the session and the identity the visitor writes as (`v:<random>` for an anonymous browser,
`u:<user id>` for a user whose id the website signed). Nothing about a session lives anywhere else, so a
token can only ever open its own history. Own code (rather than a JWT library) because the format is ours
end to end and a fixed, algorithm-free HMAC leaves nothing to negotiate.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from helpline.platform.crypto import derive_key, hmac_sha256_hex

TOKEN_DAYS = 180


class BadToken(Exception):
    """The token is malformed, forged, expired, or for another channel."""


@dataclass(frozen=True)
class VisitorSession:
    channel_id: int
    session_id: str
    provider_id: str  # the contact identity on this channel: v:<random> or u:<verified user id>
    verified: bool
    name: str | None = None
    email: str | None = None
    expires_at: int = 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, "widget-session-v1")

    def issue(self, session: VisitorSession) -> str:
        payload = {
            "c": session.channel_id,
            "s": session.session_id,
            "p": session.provider_id,
            "v": session.verified,
            "n": session.name,
            "e": session.email,
            "x": session.expires_at or int(time.time()) + TOKEN_DAYS * 86400,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{hmac_sha256_hex(self._key, body.encode())}"

    def read(self, token: str, *, channel_id: int, now: float | None = None) -> VisitorSession:
        """The session a token stands for; raises BadToken for anything forged, expired or of another channel."""
        body, _, signature = token.strip().partition(".")
        if not body or not hmac.compare_digest(hmac_sha256_hex(self._key, body.encode()), signature):
            raise BadToken("invalid session token")
        try:
            data: dict[str, Any] = json.loads(_unb64(body))
            session = VisitorSession(
                channel_id=int(data["c"]),
                session_id=str(data["s"]),
                provider_id=str(data["p"]),
                verified=bool(data["v"]),
                name=data.get("n"),
                email=data.get("e"),
                expires_at=int(data["x"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise BadToken("invalid session token") from None
        if session.channel_id != channel_id or session.expires_at < (now if now is not None else time.time()):
            raise BadToken("invalid or expired session token")
        return session


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def user_hash(secret: str, user_id: str) -> str:
    """What the website computes on its server: hex HMAC-SHA256(identity secret, user id) (Intercom's scheme)."""
    return hmac_sha256_hex(secret, user_id.encode())


def verified_user(secret: str | None, user_id: str | None, proof: str | None) -> str | None:
    """The user id when `proof` is its HMAC under the channel's secret, else None (never trusted unproven)."""
    if not secret or not user_id or not proof:
        return None
    return user_id if hmac.compare_digest(user_hash(secret, user_id), proof.strip().lower()) else None
