"""ASGI middleware: query strings and JSON bodies cleaned of what no database stores, before any route sees them.

`?q=%00` and `{"name": "\\ud83d"}` are valid HTTP and valid JSON, yet PostgreSQL refuses NUL, no UTF-8
encoder takes a lone surrogate, and a JSON response echoing one fails to encode: each would be a 500. The
offending characters become U+FFFD (`platform/sanitize.py`); requests without them pass through untouched.
Bodies of signed webhooks are left byte for byte (their HMAC covers the raw bytes); those routes clean what
they parse after verifying it.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helpline.platform.sanitize import clean_inbound, clean_value, is_clean

# Routes whose raw body is signed by the sender: Meta's callback, the generic API inbound, Meta's privacy callbacks.
SIGNED_PATHS = re.compile(r"^(/webhooks/|/privacy/|/api/v1/channels/[^/]+/inbound$)")
# The website visitors' chat (a channel without a signature): their text is a customer's, cleaned as every
# channel's inbound text is (NUL removed rather than shown as U+FFFD; `sanitize.clean_inbound`).
CUSTOMER_PATHS = re.compile(r"^/api/v1/widget/")
# In JSON text, a NUL or a surrogate can only arrive escaped: `\u0000`, `\ud83d` (a raw NUL byte is invalid JSON).
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def clean_query_string(raw: bytes) -> bytes:
    """The query string with NUL removed from every name and value (percent-decoding replaces invalid UTF-8
    already); the original bytes when nothing needed cleaning."""
    if b"%00" not in raw and b"\x00" not in raw:
        return raw
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="replace")
    if all(is_clean(k) and is_clean(v) for k, v in pairs):
        return raw
    return urlencode([(clean_value(k), clean_value(v)) for k, v in pairs]).encode()


class CleanInputMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if query:
            cleaned = clean_query_string(query)
            if cleaned is not query:
                scope = {**scope, "query_string": cleaned}
        if scope["type"] != "http" or not self._json_body(scope):
            await self.app(scope, receive, send)
            return
        body = await self._read(receive)
        if _SUSPECT_ESCAPE.search(body):
            customer = CUSTOMER_PATHS.match(scope.get("path", "")) is not None
            cleaned_body = self._cleaned(body, customer=customer)
            if cleaned_body != body:
                body = cleaned_body
                headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"content-length"]
                scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _json_body(scope: Scope) -> bool:
        if scope.get("method") not in ("POST", "PUT", "PATCH", "DELETE") or SIGNED_PATHS.match(scope.get("path", "")):
            return False
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"").lower()
        return content_type.startswith(b"application/json") or b"+json" in content_type

    @staticmethod
    async def _read(receive: Receive) -> bytes:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    def _cleaned(body: bytes, *, customer: bool) -> bytes:
        try:
            parsed = json.loads(body)
        except ValueError:
            return body  # not JSON after all: the route answers 422 as it would have
        cleaned = clean_inbound(parsed) if customer else clean_value(parsed)
        return json.dumps(cleaned, ensure_ascii=False).encode()
