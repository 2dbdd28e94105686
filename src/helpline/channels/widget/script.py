"""Route: /widget.js, the embeddable script, served by Helpline itself (no CDN) with a short cache and an ETag."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request, Response

router = APIRouter(include_in_schema=False)

SCRIPT = Path(__file__).parent / "static" / "widget.js"
# The snippet's URL carries no version, so browsers re-check it every few minutes (and get 304 when unchanged).
CACHE = "public, max-age=300"


@cache
def _script() -> tuple[bytes, str]:
    body = SCRIPT.read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:20]}"'


@router.get("/widget.js")
async def widget_js(request: Request) -> Response:
    body, etag = _script()
    headers = {"Cache-Control": CACHE, "ETag": etag, "Cross-Origin-Resource-Policy": "cross-origin"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)
