"""Failed-attempt throttles: per account in the database (atomic claims), per client address with `limits`.

Per account (e-mail, or "2fa:<operator id>" for second-factor codes): an attempt *claims* a slot before the
password or code is checked, in its own short transaction that locks the counter row (`FOR UPDATE` on PostgreSQL;
SQLite's writers queue on BEGIN IMMEDIATE). So N concurrent guesses are counted N times and never more than
`max_failures` of them are checked before the lock, and two first failures for one key never both insert the
row (INSERT … ON CONFLICT DO NOTHING). The attempt that reaches the limit sets the lock itself; a success clears
the row. Each attempt past the limit doubles the lock, up to a day (OWASP Authentication Cheat Sheet).

Per client address (password spraying: one address, many accounts): a moving window over failed logins, kept
in Redis when configured (every API process shares it) or in memory (`platform/rate_limits.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.auth.models import LoginThrottle
from helpline.platform.clock import utcnow
from helpline.platform.db import Database
from helpline.platform.errors import TooManyRequests
from helpline.platform.rate_limits import RateLimit

MAX_LOCK_SECONDS = 86400


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    lock_seconds: int


def locked_error(wait_seconds: float, what: str = "failed logins") -> TooManyRequests:
    wait = max(1, math.ceil(wait_seconds))
    return TooManyRequests(f"too many {what}; try again in {wait} s", details={"retry_after": wait})


async def claim_attempt(db: Database, key: str, policy: ThrottlePolicy) -> None:
    """Count one attempt for `key` before it is checked; raises TooManyRequests (429, details.retry_after in
    seconds) while the key is locked. Commits on its own, so the count holds whatever the outcome."""
    async with db.transaction() as session:
        insert = pg_insert if db.is_postgres else sqlite_insert
        await session.execute(
            insert(LoginThrottle).values(key=key, failures=0, updated_at=utcnow()).on_conflict_do_nothing()
        )
        row = (
            await session.execute(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update())
        ).scalar_one()
        now = utcnow()
        if row.locked_until is not None and row.locked_until > now:
            raise locked_error((row.locked_until - now).total_seconds())
        row.failures += 1
        over = row.failures - policy.max_failures
        if over >= 0:
            row.locked_until = now + timedelta(seconds=min(MAX_LOCK_SECONDS, policy.lock_seconds * 2**over))


async def clear(session: AsyncSession, key: str) -> None:
    """A success: forget the failures of `key` (and any lock its own claim set)."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


class AddressLimiter:
    """Failed logins per client address over the moving windows of HELPLINE_LOGIN_IP_LIMIT."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit

    async def check(self, address: str | None) -> None:
        """Raise TooManyRequests (429 with retry_after) when `address` used up a window. If the limit store is
        unreachable the check passes (the per-account throttle, in the database, still holds)."""
        if address and (wait := await self.limit.wait(address)) is not None:
            raise locked_error(wait, "failed logins from your address")

    async def failed(self, address: str | None) -> None:
        if address:
            await self.limit.hit(address)
