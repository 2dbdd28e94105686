"""Single-use realtime tickets: a short-lived secret for `?ticket=` where a client cannot send a header.

A client that cannot set `Authorization` on a websocket handshake (and has no cookie) asks for a ticket with its
session (POST /api/v1/realtime/tickets) and opens `/api/v1/realtime?ticket=…`. The ticket stands for the session
that asked (never more: logout or deactivation still close the socket), opens one socket once, and expires after
HELPLINE_REALTIME_TICKET_SECONDS. Only a SHA-256 digest is stored; redeeming is atomic (Redis GETDEL, shared by
every process, or a dict pop in a single process), so two sockets racing on one ticket get one session between
them. Query strings named `ticket` are redacted from logs (`platform/redaction.py`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Protocol

import redis.asyncio as aioredis

PREFIX = "hlt_"


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def new_ticket() -> str:
    """`hlt_` + 43 URL-safe characters (256 random bits)."""
    return PREFIX + secrets.token_urlsafe(32)


class TicketStore(Protocol):
    async def issue(self, session_id: int) -> str:
        """A fresh ticket standing for auth session `session_id`."""
        ...

    async def redeem(self, ticket: str) -> int | None:
        """The session id the ticket stood for, once; None when unknown, used or expired."""
        ...

    async def close(self) -> None: ...


class MemoryTickets:
    """One process's tickets (no Redis): the socket must reach the process that issued it."""

    def __init__(self, ttl_seconds: int) -> None:
        self.ttl = ttl_seconds
        self._tickets: dict[str, tuple[int, float]] = {}

    async def issue(self, session_id: int) -> str:
        now = time.monotonic()
        self._tickets = {k: v for k, v in self._tickets.items() if v[1] > now}
        ticket = new_ticket()
        self._tickets[_digest(ticket)] = (session_id, now + self.ttl)
        return ticket

    async def redeem(self, ticket: str) -> int | None:
        found = self._tickets.pop(_digest(ticket), None)
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    async def close(self) -> None:
        self._tickets.clear()


class RedisTickets:
    """Tickets every API process can redeem; Redis expires them (SET … EX) and GETDEL makes them single-use."""

    def __init__(self, url: str, prefix: str, ttl_seconds: int) -> None:
        self.ttl = ttl_seconds
        self._prefix = f"{prefix}:realtime-ticket:"
        self._redis = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    async def issue(self, session_id: int) -> str:
        ticket = new_ticket()
        await self._redis.set(self._prefix + _digest(ticket), str(session_id), ex=self.ttl)
        return ticket

    async def redeem(self, ticket: str) -> int | None:
        value = await self._redis.getdel(self._prefix + _digest(ticket))
        return int(value) if value is not None else None

    async def close(self) -> None:
        await self._redis.aclose()


def ticket_store(redis_url: str, prefix: str, ttl_seconds: int) -> TicketStore:
    return RedisTickets(redis_url, prefix, ttl_seconds) if redis_url else MemoryTickets(ttl_seconds)
