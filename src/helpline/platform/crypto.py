"""Secrets at rest and signed values: keys derived from HELPLINE_SECRET_KEY, one purpose per key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(RuntimeError):
    """A stored secret could not be decrypted (the secret key changed, or the value was tampered with)."""


def derive_key(secret_key: str, purpose: str) -> bytes:
    """32 bytes for one purpose; a leak of one derived key reveals nothing about the others."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"helpline", info=purpose.encode())
    return hkdf.derive(secret_key.encode())


class SecretBox:
    """Encrypts provider credentials (a JSON object) for storage; authenticated, so tampering is detected."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "credentials-v1")))

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            value: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise DecryptionError("stored credentials cannot be decrypted with the current secret key") from exc
        return value


def hmac_sha256_hex(key: bytes | str, body: bytes) -> str:
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_sha256_signature(key: bytes | str, body: bytes, header: str | None) -> bool:
    """Check a `sha256=<hex>` header over the raw body, in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac_sha256_hex(key, body)
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def sign_header(key: bytes | str, body: bytes) -> str:
    return "sha256=" + hmac_sha256_hex(key, body)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_digest(token: str) -> str:
    """What we store for a bearer token: a digest, so a database leak does not leak live sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


class UrlSigner:
    """Short-lived signed URLs (attachment downloads for providers and callback receivers)."""

    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, "url-signing-v1")

    def sign(self, path: str, expires_at: int) -> str:
        return hmac_sha256_hex(self._key, f"{path}|{expires_at}".encode())[:32]

    def verify(self, path: str, expires_at: int, signature: str, now: int) -> bool:
        return now <= expires_at and hmac.compare_digest(self.sign(path, expires_at), signature)
