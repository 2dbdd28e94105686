"""Routes: the operator web app's HTML shell (one page for every screen) and its versioned static assets."""

from __future__ import annotations

import json
from functools import cache
from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helpline.auth.dependencies import resolve_principal
from helpline.platform.errors import HelplineError
from helpline.web.assets import ENTRY, ENTRY_BUNDLE, PRELOAD, STYLES, STYLESHEET, Asset, AssetBundle
from helpline.web.icons import build_sprite

router = APIRouter(include_in_schema=False)

_bundle: AssetBundle | None = None


def bundle() -> AssetBundle:
    """The assets, read on first use (tests that never open a page never pay for it)."""
    global _bundle
    if _bundle is None:
        _bundle = AssetBundle.load(generated={"icons.svg": Asset(build_sprite(), "image/svg+xml")})
    return _bundle


def shell_html(assets: AssetBundle, *, bundled: bool = True) -> str:
    """The page every screen starts from: no inline script or style, so a strict CSP holds.

    `bundled`: one script, the entry bundle (the other bundles load on demand); otherwise the entry module and a
    `modulepreload` list of the modules every screen needs (the `HELPLINE_WEB_BUNDLE=false` debugging mode)."""
    prefix = escape(assets.prefix)
    entry = ENTRY_BUNDLE if bundled else ENTRY
    preload = "" if bundled else "".join(f'<link rel="modulepreload" href="{prefix}{name}">' for name in PRELOAD)
    styles = f'<link rel="stylesheet" href="{prefix}{STYLESHEET}">'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark"><title>Helpline</title>'
        f'<link rel="icon" href="{prefix}img/favicon.svg" type="image/svg+xml">'
        f"{styles}{preload}"
        f'<script type="module" src="{prefix}{entry}"></script></head>'
        '<body><div id="app"></div><noscript>Helpline needs JavaScript enabled.</noscript></body></html>'
    )


def _shell(request: Request) -> HTMLResponse:
    # The shell itself must never be cached for long: it names the current asset version.
    bundled = request.app.state.runtime.settings.web_bundle
    return HTMLResponse(shell_html(bundle(), bundled=bundled), headers={"Cache-Control": "no-cache"})


async def _shell_or_login(request: Request) -> Response:
    # A logged-out visitor is sent to the login page here rather than by the page probing /auth/me: the browser
    # would log that probe's 401 as a console error on the way to the login page.
    try:
        await resolve_principal(request)
    except HelplineError:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = "/login" if here == "/" else f"/login?{urlencode({'next': here})}"
        return RedirectResponse(target, status_code=303)
    return _shell(request)


@router.get("/", response_class=HTMLResponse)
async def inbox_page(request: Request) -> Response:
    return await _shell_or_login(request)


@router.get("/favicon.ico")
async def favicon() -> Response:
    """The icon browsers ask for on their own (the app root, the sandbox's sample site): the app's SVG icon."""
    found = bundle().get("img/favicon.svg")
    assert found is not None  # shipped with the package
    return Response(found.body, media_type=found.media_type, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    # Decided here, not by the page probing /auth/me: a logged-out visitor (the usual case on this page) would
    # otherwise get a 401 the browser logs as a console error on every visit.
    try:
        await resolve_principal(request)
    except HelplineError:
        return _shell(request)
    return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)


def safe_next(value: str | None) -> str:
    """Where a login leads: a same-origin path only ("/" otherwise) — a crafted ?next= must not leave the site."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\", "/login")):
        return value
    return "/"


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(conversation_id: str, request: Request) -> Response:
    # The id is validated by the API the page calls; an unknown one shows the "doesn't exist" state.
    return await _shell_or_login(request)


@router.get("/admin", response_class=HTMLResponse)
@router.get("/admin/{rest:path}", response_class=HTMLResponse)
@router.get("/preferences", response_class=HTMLResponse)
async def other_pages(request: Request, rest: str = "") -> Response:
    return await _shell_or_login(request)


@router.get("/assets/{version}/{name:path}")
async def asset(version: str, name: str, request: Request) -> Response:
    assets = bundle()
    found = assets.get(name)
    if found is None:
        return Response(status_code=404, content=b"not found", media_type="text/plain")
    # A page from before an upgrade may ask for an older version: serve today's file, but do not pin it.
    cache = "public, max-age=31536000, immutable" if version == assets.version else "no-cache"
    etag = f'"{assets.version}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    return Response(found.body, media_type=found.media_type, headers={"Cache-Control": cache, "ETag": etag})


def wants_html(request: Request) -> bool:
    """A browser navigating to a page (not the API, not a script fetching JSON): it asks for text/html."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


@cache
def _catalogue(locale: str) -> dict[str, object]:
    found = bundle().get(f"i18n/{locale}.json")
    return json.loads(found.body) if found else {}


def page_locale(accept_language: str) -> str:
    """The shipped locale closest to the browser's first preference that has one ("pt-PT" → pt-BR), else en."""
    shipped = [name.removeprefix("i18n/").removesuffix(".json") for name in bundle().files if name.startswith("i18n/")]
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        for code in shipped:
            if tag and (tag == code.lower() or tag.split("-")[0] == code.lower().split("-")[0]):
                return code
    return "en"


def not_found_html(accept_language: str) -> str:
    """The 404 page a browser gets for an unknown address: in its language, linking back to the inbox."""
    locale = page_locale(accept_language)
    words = _catalogue(locale).get("missing")
    fallback = _catalogue("en").get("missing")
    text = {**(fallback if isinstance(fallback, dict) else {}), **(words if isinstance(words, dict) else {})}
    prefix = escape(bundle().prefix)
    styles = "".join(f'<link rel="stylesheet" href="{prefix}{name}">' for name in STYLES[:1])
    return (
        f'<!doctype html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="color-scheme" content="light dark"><title>{escape(str(text["title"]))} · Helpline</title>'
        f'<link rel="icon" href="{prefix}img/favicon.svg" type="image/svg+xml">{styles}</head>'
        '<body><main class="empty-page not-found">'
        f"<h1>{escape(str(text['title']))}</h1><p>{escape(str(text['detail']))}</p>"
        f'<p><a class="button primary" href="/">{escape(str(text["back"]))}</a></p></main></body></html>'
    )
