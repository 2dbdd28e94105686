"""Route: the landing page, pointing operators to the API documentation until the web app lands."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Helpline</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>Helpline is running</h1>
<p>The operator inbox API is live. Explore it at <a href="/docs">/docs</a> (OpenAPI), log in with
<code>POST /api/v1/auth/login</code>, and follow conversations live on <code>WS /api/v1/realtime</code>.</p>
<p>Health: <a href="/api/v1/health">/api/v1/health</a> · Metrics: <a href="/metrics">/metrics</a></p>
</body></html>"""


@router.get("/", response_class=HTMLResponse)
async def landing() -> str:
    return _LANDING
