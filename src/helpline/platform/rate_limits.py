"""Named rate limits over moving windows, shared by every process through Redis (in memory without it).

The counting is the `limits` library's (moving windows, memory or Redis storage); this module only names
Helpline's limits, builds their storage once per process and turns "over the limit" into the seconds until a
slot frees — what a 429 puts in `Retry-After` (RFC 9110 §10.2.3, RFC 6585 §4). An unreachable limit store lets
the request through (logged at most once a minute): a Redis outage must never cost a customer's message.

The limits (docs/security.md, "Rate limits"):
- `login_address`  — failed logins per client address (password spraying); `auth/throttle.py`.
- `inbound_channel` — signed inbound requests per channel; over it the provider gets 429 and retries.
- `inbound_contact` — customer messages per contact handed to the bot; over it they are stored and shown to
  people as usual but the bot does not answer them (a flood or a loop from one contact costs no bot work).
- `bot_reply`      — bot replies per contact; over it the bot hands the conversation to a person (stops
  bot loops with auto-responders).
- `limit(name, rate)` — limits whose rate is data, such as each widget's per-session and per-address rates.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from redis import asyncio as aioredis

from helpline.platform.errors import TooManyRequests

log = logging.getLogger(__name__)

WARN_EVERY_SECONDS = 60.0


def parse_limit(value: str) -> list[RateLimitItem]:
    """`"20/minute;200/hour"` → its windows; `""` → no limit. Raises ValueError on anything else."""
    return list(parse_many(value)) if value.strip() else []


class RateLimited(TooManyRequests):
    """Over a rate limit: 429 `too_many_requests`; `details.retry_after` in whole seconds (≥ 1) becomes the
    `Retry-After` header."""

    def __init__(self, message: str, retry_after: float) -> None:
        wait = max(1, math.ceil(retry_after))
        super().__init__(f"{message}; retry in {wait} s", details={"retry_after": wait})
        self.retry_after = wait


@dataclass
class _Warnings:
    last: float = 0.0

    def store_down(self, name: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self.last >= WARN_EVERY_SECONDS:
            self.last = now
            log.warning("rate-limit store unavailable (%s); limit %r not applied", type(exc).__name__, name)


class RateLimit:
    """One named limit: its windows (all must have room) counted per key in the shared strategy."""

    def __init__(
        self,
        name: str,
        limit: str,
        strategy: MovingWindowRateLimiter,
        counter: Counter | None = None,
        warnings: _Warnings | None = None,
    ) -> None:
        self.name = name
        self.items = parse_limit(limit)
        self._strategy = strategy
        self._counter = counter
        self._warnings = warnings or _Warnings()

    @property
    def enabled(self) -> bool:
        return bool(self.items)

    async def wait(self, key: str) -> float | None:
        """Seconds until `key` has room again, or None when it has room now; counts nothing."""
        try:
            for item in self.items:
                stats = await self._strategy.get_window_stats(item, self.name, key)
                if stats.remaining <= 0:
                    return max(0.0, stats.reset_time - time.time())
        except Exception as exc:
            self._warnings.store_down(self.name, exc)
        return None

    async def hit(self, key: str, cost: int = 1) -> float | None:
        """Count `cost` for `key` in every window. None when all had room (counted); otherwise the seconds until
        the full window frees a slot (nothing more is counted). A store outage counts as room."""
        try:
            for item in self.items:
                if not await self._strategy.hit(item, self.name, key, cost=cost):
                    stats = await self._strategy.get_window_stats(item, self.name, key)
                    if self._counter is not None:
                        self._counter.labels(self.name).inc()
                    return max(0.0, stats.reset_time - time.time())
        except Exception as exc:
            self._warnings.store_down(self.name, exc)
        return None

    async def enforce(self, key: str, message: str, cost: int = 1) -> None:
        """`hit`, raising RateLimited (429 with Retry-After) when over the limit."""
        wait = await self.hit(key, cost)
        if wait is not None:
            raise RateLimited(message, wait)


class RateLimits:
    """The process's named limits on one storage — Redis when configured (limits hold across every API and worker
    process), else this process's memory; see the module docstring for what each protects."""

    def __init__(
        self,
        *,
        login_address: str,
        inbound_channel: str,
        inbound_contact: str,
        bot_reply: str,
        redis_url: str = "",
        prefix: str = "helpline",
        counter: Counter | None = None,
    ) -> None:
        # Our own pool, to close it, with short timeouts: an unreachable Redis must not hold a webhook for long.
        self._pool = (
            aioredis.ConnectionPool.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
            if redis_url
            else None
        )
        storage: Storage = MemoryStorage()
        if self._pool is not None:
            # The library types its pass-through options narrowly; redis-py takes the pool as documented.
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                f"async+{redis_url}", implementation="redispy", key_prefix=f"{prefix}:limits", **options
            )
        strategy = MovingWindowRateLimiter(storage)
        warnings = _Warnings()

        def named(name: str, limit: str) -> RateLimit:
            return RateLimit(name, limit, strategy, counter, warnings)

        self._strategy, self._counter, self._warnings = strategy, counter, warnings
        self._data_limits: dict[tuple[str, str], RateLimit] = {}
        self.login_address = named("login-failures", login_address)
        self.inbound_channel = named("inbound-channel", inbound_channel)
        self.inbound_contact = named("inbound-contact", inbound_contact)
        self.bot_reply = named("bot-reply", bot_reply)

    def limit(self, name: str, rate: str) -> RateLimit:
        """A limit whose rate is data (e.g. one widget's settings), on the same storage; built once per
        (name, rate). Raises ValueError for a rate not in the `limits` notation."""
        key = (name, rate)
        if key not in self._data_limits:
            self._data_limits[key] = RateLimit(name, rate, self._strategy, self._counter, self._warnings)
        return self._data_limits[key]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
