"""When an inbound message happened: the provider's timestamp when it is plausible, else the receive time.

A provider's (or an API client's) clock can be wrong — `0001-01-01T00:00:00Z`, a phone set to 2099 — and the
timeline, the conversation's order and the reply window all use this time.

- Ahead: at most `MAX_AHEAD` (ordinary clock skew; such a time is capped at the receive time, as before).
- Behind: at most `MAX_AGE` for any channel — mail read from a mailbox that was offline for months keeps its
  real date, but no provider redelivers or backfills anything older than a year (Meta stops retrying a
  webhook after 7 days). Our own API channel is stricter, `API_MAX_AGE` (its clients retry within 7 days,
  docs/channels/api.md), and answers 422 there instead (channels/generic/payloads.py).

Outside the window the receive time is used and the provider's value is kept in the message's content
(`implausible_provider_timestamp`), so nothing the provider sent is lost.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MAX_AHEAD = timedelta(minutes=5)
MAX_AGE = timedelta(days=366)
API_MAX_AGE = timedelta(days=7)


def as_utc(value: datetime) -> datetime:
    """`value` with a time zone: a naive time is taken as UTC (ISO 8601 without an offset)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def plausible(value: datetime, now: datetime, *, max_age: timedelta = MAX_AGE) -> bool:
    """Whether `value` lies within [now - max_age, now + MAX_AHEAD]."""
    return now - max_age <= as_utc(value) <= now + MAX_AHEAD


def happened_at(value: datetime | None, now: datetime) -> tuple[datetime, datetime | None]:
    """(the time the message is filed at, the provider's value when it was set aside as implausible).

    A plausible time slightly in the future (clock skew) is capped at `now`: nothing is filed after the
    moment it was received."""
    if value is None:
        return now, None
    if not plausible(value, now):
        return now, as_utc(value)
    return min(as_utc(value), now), None
