"""Signed inbound webhooks served as raw ASGI, ahead of the middleware stack and FastAPI.

Measured (bench/RESULTS.md, issue 8): for a route of two statements, the six middleware layers and FastAPI's
dependency solving were about half of the request's CPU. `InboundDispatcher` sits in front of all of them and
takes only `POST /api/v1/channels/{id}/inbound` without a query string or `Prefer: return=representation`;
every other request — including those — goes to the app unchanged, whose route gives the same answers.

What the skipped layers did for these requests is done here, cheaply: the body limit (413 `too_large`,
`HELPLINE_MAX_REQUEST_BYTES`), the request counter and latency histogram of `/metrics` (same metric names and
route template), the security headers, and errors rendered by the app's own exception handlers (so 401, 404,
409, 415, 422, 429 + Retry-After, 503 + Retry-After have the shape of every other answer, and an unexpected error
is logged and answered like anywhere else). Not needed here: the input cleaning (a signed body is taken byte
for byte anyway), the audit origin (accepting writes no audit entry), the client address behind a trusted
proxy (nothing here uses it) and gzip (the answers are a few dozen bytes).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from helpline.channels.api_inbound import accept_api_inbound
from helpline.channels.signing_cache import SigningCache
from helpline.runtime import Runtime

# The FastAPI route's template, so /metrics shows one series whichever way a request was served.
API_INBOUND_ROUTE = "/api/v1/channels/{channel_id}/inbound"
# Ids the route accepts (`BoundedInt`, ≤ 2^53 - 1): up to 15 digits here; anything else goes to the app.
_API_INBOUND_PATH = re.compile(r"/api/v1/channels/([1-9][0-9]{0,14})/inbound")

ExceptionHandler = Callable[[Request, Exception], Response | Awaitable[Response]]


class InboundDispatcher:
    """ASGI: the accept-fast webhook routes here, everything else to `app` (the middleware stack)."""

    def __init__(
        self,
        app: ASGIApp,
        runtime: Runtime,
        cache: SigningCache,
        exception_handlers: Mapping[Any, ExceptionHandler],
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.cache = cache
        self.exception_handlers = exception_handlers
        self.max_bytes = runtime.settings.max_request_bytes
        self.security_headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        if runtime.settings.base_url.startswith("https://"):
            self.security_headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self._requests: dict[tuple[str, str], Any] = {}
        self._latency: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("query_string"):
            match = _API_INBOUND_PATH.fullmatch(scope["path"])
            if match is not None:
                headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
                if "return=representation" not in headers.get("prefer", "").replace(" ", "").lower():
                    await self._serve(scope, receive, send, headers, int(match[1]))
                    return
        await self.app(scope, receive, send)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], channel_id: int
    ) -> None:
        start = time.perf_counter()
        extra: list[tuple[bytes, bytes]] = []
        try:
            body = await self._read(receive, headers)
            if body is None:
                status, content = 413, self._too_large()
            else:
                answer = await accept_api_inbound(self.runtime, self.cache, channel_id, headers, body)
                status, content = 200, _json(answer)
        except _Disconnected:
            return  # the client went away: nobody to answer, nothing stored
        except Exception as exc:
            status, content, extra = await self._error(scope, exc)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    *extra,
                    *self.security_headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
        self._count(API_INBOUND_ROUTE, status, time.perf_counter() - start)

    async def _read(self, receive: Receive, headers: dict[str, str]) -> bytes | None:
        """The whole body, or None when it is over the limit (then not read further)."""
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> bytes:
        # As BodyLimitMiddleware answers for every other route.
        return _json({"error": {"code": "too_large", "message": f"request body is larger than {self.max_bytes} bytes"}})

    async def _error(self, scope: Scope, exc: Exception) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """The app's own answer to `exc` (its exception handlers, looked up as Starlette does: by the
        exception's class hierarchy)."""
        handler = next(self.exception_handlers[cls] for cls in type(exc).__mro__ if cls in self.exception_handlers)
        response = handler(Request(scope), exc)
        if not isinstance(response, Response):
            response = await response
        extra = [(k, v) for k, v in response.raw_headers if k not in (b"content-type", b"content-length")]
        return response.status_code, bytes(response.body), extra

    def _count(self, route: str, status: int, seconds: float) -> None:
        # Label children cached: `.labels()` takes a lock and builds a key per call.
        key = (route, str(status))
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.runtime.metrics.http_requests.labels("POST", route, key[1])
        counter.inc()
        latency = self._latency.get(route)
        if latency is None:
            latency = self._latency[route] = self.runtime.metrics.http_latency.labels("POST", route)
        latency.observe(seconds)


class _Disconnected(Exception):
    pass


def _json(content: object) -> bytes:
    # As Starlette's JSONResponse renders.
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
