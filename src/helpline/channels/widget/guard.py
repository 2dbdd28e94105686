"""Who may use a widget: the page's origin (CORS and the socket's Origin) and how often (per session, per address).

CORS is answered here, per widget, because each widget has its own allowed origins (a global CORS middleware
knows one list). The per-session and per-address rate limits are `platform/rate_limits.RateLimits.limit`.
"""

from __future__ import annotations

from helpline.channels.widget.settings import WidgetSettings, normalize_origin
from helpline.platform.errors import Forbidden
from helpline.settings import Settings

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"


def origin_allowed(origin: str | None, widget: WidgetSettings, settings: Settings) -> bool:
    """No Origin: not a browser (or a same-origin GET), nothing to protect against. Otherwise the page's origin
    must be one the admin listed, or Helpline's own (the demo page and the admin's preview)."""
    if origin is None:
        return True
    try:
        origin = normalize_origin(origin)
    except ValueError:
        return False
    return origin in widget.allowed_origins or origin == normalize_origin(settings.base_url)


def check_origin(origin: str | None, widget: WidgetSettings, settings: Settings) -> None:
    if not origin_allowed(origin, widget, settings):
        raise Forbidden("this website may not use this chat widget", code="bad_origin")


def cors_headers(origin: str | None) -> dict[str, str]:
    """Headers for an allowed origin (the caller checked it). No cookies are used, so no credentials."""
    headers = {"Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        **cors_headers(origin),
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }
