"""The one place that tells the time, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall clock in aware UTC; tests may set an offset to travel in time."""

    offset_seconds: float = 0.0

    def now(self) -> datetime:
        now = datetime.now(UTC)
        if self.offset_seconds:
            now += timedelta(seconds=self.offset_seconds)
        return now


clock = Clock()


def utcnow() -> datetime:
    return clock.now()
