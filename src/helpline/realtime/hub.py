"""The per-process relay: keeps recent frames for replay and pushes each to the sockets allowed to see it.

It runs no queries and holds no rules of its own: a frame names its audience (a channel), and a socket
carries the principal that was resolved when it connected.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpline.auth.permissions import Principal
from helpline.realtime.forget import FORGET, forgets
from helpline.realtime.frames import TYPING_FRAME

log = logging.getLogger(__name__)

RESYNC = {"type": "resync", "reason": "missed events are no longer available; reload the inbox"}


@dataclass(eq=False)
class Subscriber:
    """One open socket. Its queue holds frames *with* their audience, so a frame queued before the operator lost
    access is checked again, against the current principal, when it is sent (`deliverable`)."""

    principal: Principal
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(maxsize=2000))
    overflowed: bool = False
    # Set when the session behind this socket ended: (close code, reason); the socket closes at once.
    revoked: tuple[int, str] | None = None
    revoked_event: asyncio.Event = field(default_factory=asyncio.Event)

    def revoke(self, code: int, reason: str) -> None:
        """Close this socket with an application close code (4401 session ended, 4403 not allowed)."""
        if self.revoked is None:
            self.revoked = (code, reason)
            self.revoked_event.set()

    def deliverable(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        """What to send for a queued frame now: the client view, or None when access was lost meanwhile."""
        if self.revoked is not None:
            return None
        if "audience" in frame and not self.may_see(frame):
            return None
        return client_view(frame)

    def may_see(self, frame: dict[str, Any]) -> bool:
        audience = frame.get("audience") or {}
        if "operator_id" in audience:
            return bool(audience["operator_id"] == self.principal.operator_id)
        channel_id = audience.get("channel_id")
        if channel_id is None:
            return self.principal.sees_all_channels
        return self.principal.can_see_channel(int(channel_id))


def client_view(frame: dict[str, Any]) -> dict[str, Any]:
    """What a socket receives: the frame without its routing information."""
    return {k: v for k, v in frame.items() if k != "audience"}


class RealtimeHub:
    def __init__(self, buffer_size: int = 10_000) -> None:
        self._buffer: deque[dict[str, Any]] = deque(maxlen=buffer_size)
        self._subscribers: set[Subscriber] = set()
        self.last_event_id = 0

    @property
    def client_count(self) -> int:
        return len(self._subscribers)

    def on_frame(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == FORGET:
            # An erasure or a withdrawal: drop what this process would replay of it; the control frame goes nowhere.
            self.forget(forgets(frame))
            return
        # "Someone is typing" is true for seconds: a socket that reconnects later must not be told it again.
        if frame.get("type") != TYPING_FRAME:
            self._buffer.append(frame)
        self.last_event_id = max(self.last_event_id, int(frame["id"]))
        for subscriber in list(self._subscribers):
            if subscriber.may_see(frame):
                self._push(subscriber, frame)

    def _push(self, subscriber: Subscriber, frame: dict[str, Any]) -> None:
        try:
            subscriber.queue.put_nowait(frame)
        except asyncio.QueueFull:
            # A client too slow to keep up is dropped and told to re-sync rather than slowing everyone.
            subscriber.overflowed = True
            self._subscribers.discard(subscriber)

    def subscribe(self, principal: Principal, last_event_id: int | None) -> Subscriber:
        """Register first, then replay, so nothing published in between is lost (duplicates are skipped
        by the client through the event id)."""
        subscriber = Subscriber(principal)
        self._subscribers.add(subscriber)
        if last_event_id is not None:
            self._replay(subscriber, last_event_id)
        return subscriber

    def add_subscriber(self, subscriber: Subscriber) -> None:
        """Register a socket whose subscriber decides for itself what it may see (e.g. a website visitor's)."""
        self._subscribers.add(subscriber)

    def _replay(self, subscriber: Subscriber, last_event_id: int) -> None:
        oldest = self._buffer[0]["id"] if self._buffer else None
        if last_event_id > self.last_event_id or (oldest is not None and last_event_id < oldest - 1):
            self._push(subscriber, dict(RESYNC))
            return
        for frame in list(self._buffer):
            if frame["id"] > last_event_id and subscriber.may_see(frame):
                self._push(subscriber, frame)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    @property
    def subscribers(self) -> list[Subscriber]:
        return list(self._subscribers)

    def forget(self, predicate: Callable[[dict[str, Any]], bool]) -> int:
        """Drop buffered frames matching `predicate` (erasure: they must not be replayed); returns how many."""
        kept = [frame for frame in self._buffer if not predicate(frame)]
        dropped = len(self._buffer) - len(kept)
        if dropped:
            self._buffer.clear()
            self._buffer.extend(kept)
        return dropped
