"""OAuth 2.0 for IMAP/SMTP (SASL XOAUTH2): refresh the access token, report a revoked grant as needs-reauth.

Google and Microsoft 365 refuse passwords for IMAP/SMTP; the admin registers an OAuth client, Helpline keeps
its refresh token (encrypted with the channel's credentials) and trades it for short-lived access tokens
(RFC 6749 §6). A refused grant (`invalid_grant`: revoked, expired, password changed) needs a person to
authorise again; anything else (network, 5xx) is retried. Microsoft may rotate the refresh token: the new
one is kept in memory at once and persisted by the mailbox poller (`take_rotated`).
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass

import httpx

from helpline.channels.base import DeliveryError
from helpline.channels.email.settings import EmailCredentials, EmailSettings

# Refresh a little before the provider's expiry so a token never dies mid-session.
EARLY_SECONDS = 120
_REAUTH_ERRORS = {"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"}


@dataclass
class _Token:
    value: str
    expires_at: float


_cache: dict[tuple[int, str], _Token] = {}
_rotated: dict[int, str] = {}


def xoauth2(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, base64 (Google's and Microsoft's documented format)."""
    return base64.b64encode(f"user={username}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def take_rotated(channel_id: int) -> str | None:
    """A refresh token the provider replaced since the last call (to be persisted), or None."""
    return _rotated.pop(channel_id, None)


def forget(channel_id: int) -> None:
    """Drop cached tokens of a channel (after the server refused one)."""
    for key in [k for k in _cache if k[0] == channel_id]:
        del _cache[key]


async def access_token(
    http: httpx.AsyncClient, channel_id: int, settings: EmailSettings, credentials: EmailCredentials
) -> str:
    """A valid access token: the cached one, the stored one when no refresh token is set, or a fresh one.

    Raises DeliveryError: `needs_reauth=True` when the provider refuses the grant, retryable on network or
    server errors."""
    refresh = _rotated.get(channel_id) or credentials.oauth_refresh_token
    if not refresh:
        if credentials.oauth_access_token:
            return credentials.oauth_access_token
        raise DeliveryError(
            "no OAuth refresh token stored: authorise the mailbox again",
            retryable=False,
            code="oauth_missing",
            needs_reauth=True,
        )
    key = (channel_id, hashlib.sha256(refresh.encode()).hexdigest())
    cached = _cache.get(key)
    if cached is not None and cached.expires_at > time.monotonic() + EARLY_SECONDS:
        return cached.value
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": settings.oauth_client_id or "",
    }
    if credentials.oauth_client_secret:
        form["client_secret"] = credentials.oauth_client_secret
    if settings.oauth_scope:
        form["scope"] = settings.oauth_scope
    try:
        response = await http.post(str(settings.oauth_token_url), data=form)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"OAuth token endpoint unreachable: {exc}", retryable=True, code="oauth_network") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError(
            f"OAuth token endpoint answered HTTP {response.status_code}", retryable=True, code="oauth_unavailable"
        )
    if not response.is_success or not body.get("access_token"):
        error = str(body.get("error") or f"http_{response.status_code}")
        detail = str(body.get("error_description") or "")[:300]
        raise DeliveryError(
            f"the OAuth provider refused the refresh token ({error}{': ' + detail if detail else ''}); "
            "authorise the mailbox again",
            retryable=False,
            code=f"oauth_{error}"[:64],
            needs_reauth=error in _REAUTH_ERRORS or response.status_code in (400, 401),
        )
    token = _Token(str(body["access_token"]), time.monotonic() + float(body.get("expires_in") or 3600))
    new_refresh = body.get("refresh_token")
    if isinstance(new_refresh, str) and new_refresh and new_refresh != refresh:
        _rotated[channel_id] = new_refresh
        key = (channel_id, hashlib.sha256(new_refresh.encode()).hexdigest())
    _cache[key] = token
    return token.value
