"""Who may use a widget: the page's origin (CORS and the socket's Origin) and how often (per session, per address).

CORS is answered here, per widget, because each widget has its own allowed origins (a global CORS middleware
knows one list). Rate limits use the `limits` library's moving windows, in Redis when configured (every API
process shares them) or in memory.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from helpline.channels.widget.settings import WidgetSettings, normalize_origin
from helpline.platform.errors import Forbidden, TooManyRequests
from helpline.settings import Settings

log = logging.getLogger(__name__)

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


class VisitorLimiter:
    """Moving-window limits on what visitors do, keyed by widget and session or client address."""

    def __init__(self, *, redis_url: str = "", prefix: str = "helpline") -> None:
        storage: Storage = (
            RedisStorage(f"async+{redis_url}", implementation="redispy", key_prefix=f"{prefix}:widget-limits")
            if redis_url
            else MemoryStorage()
        )
        self.strategy = MovingWindowRateLimiter(storage)
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def _items(self, rate: str) -> list[RateLimitItem]:
        if rate not in self._parsed:
            self._parsed[rate] = parse_many(rate)
        return self._parsed[rate]

    async def hit(self, rate: str, *key: str) -> None:
        """Count one action; raise TooManyRequests (429, details.retry_after in whole seconds, RFC 6585 §4) when a
        window is used up. An unreachable limit store lets the action through rather than failing the visitor."""
        try:
            for item in self._items(rate):
                if not await self.strategy.hit(item, "widget", *key):
                    stats = await self.strategy.get_window_stats(item, "widget", *key)
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    raise TooManyRequests(f"too many requests; try again in {wait} s", details={"retry_after": wait})
        except TooManyRequests:
            raise
        except Exception as exc:
            log.warning("widget rate-limit store unavailable (%s); request let through", type(exc).__name__)
