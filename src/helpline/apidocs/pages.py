"""Routes: `/docs` (Swagger UI) and `/redoc` (ReDoc), with every asset served from this origin.

The viewers' bundles come from the installed `fastapi-offline` package (no CDN: Helpline must work offline,
issue 7); the start-up code lives in `static/*.js` rather than an inline <script>, so the pages run under a
Content-Security-Policy with `script-src 'self'`. ReDoc injects <style> elements and builds its search index
in a blob: worker, hence this page's own, slightly wider policy.
"""

from __future__ import annotations

import html
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR_URL = "/docs/vendor"
INIT_URL = "/docs/static"
VENDOR_DIR = Path(fastapi_offline.__file__).parent / "static"
INIT_DIR = Path(__file__).parent / "static"

# Sent by these two pages only; the app's default policy for HTML applies when a response has none.
DOCS_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def _page(title: str, head: str, body: str) -> HTMLResponse:
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="icon" type="image/png" href="{VENDOR_URL}/favicon.png">{head}</head>'
        f"<body>{body}</body></html>"
    )
    return HTMLResponse(document, headers={"Content-Security-Policy": DOCS_CSP})


def install(app: FastAPI) -> None:
    """Add `/docs`, `/redoc` and their assets (under `/docs/vendor` and `/docs/static`) to `app`.

    The app must be created with `docs_url=None, redoc_url=None` so FastAPI's CDN-based pages are absent.
    Both pages read the OpenAPI document from `app.openapi_url` (a `data-openapi-url` attribute the init
    scripts pick up).
    """
    openapi_url = html.escape(app.openapi_url or "/openapi.json")
    title = app.title
    app.mount(VENDOR_URL, StaticFiles(directory=VENDOR_DIR), name="docs-vendor")
    app.mount(INIT_URL, StaticFiles(directory=INIT_DIR), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(
            f"{title} — API (Swagger UI)",
            f'<link rel="stylesheet" href="{VENDOR_URL}/swagger-ui.css">',
            f'<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>'
            f'<script src="{VENDOR_URL}/swagger-ui-bundle.js"></script>'
            f'<script src="{INIT_URL}/swagger-init.js"></script>',
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _page(
            f"{title} — API (ReDoc)",
            "",
            f'<div id="redoc" data-openapi-url="{openapi_url}"></div>'
            f'<script src="{VENDOR_URL}/redoc.standalone.js"></script>'
            f'<script src="{INIT_URL}/redoc-init.js"></script>',
        )
