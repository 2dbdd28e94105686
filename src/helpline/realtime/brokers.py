"""Fan-out backends: in-process for one server, Redis pub/sub so any API process reaches any socket.

The broker assigns each frame its event id at publish time, so ids increase in the order frames are
delivered. Ids start from the wall clock in microseconds, so after a restart (in-process) or a Redis
flush they are still larger than any a client saw before, and such a client is told to re-sync.

Both brokers may be published to from another thread of the process (the worker thread, `worker_thread.py`):
frames always reach the sockets on the loop that started the broker, in the order of their ids.

Redis is not needed to start or to serve: while it is unreachable the Redis broker delivers each frame to
this process's sockets only (`degraded`, shown by /api/v1/health), keeps reconnecting, and afterwards
continues the ids above every id it handed out meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

FrameHandler = Callable[[dict[str, Any]], None]


def _clock_seed() -> int:
    return time.time_ns() // 1000


class Broker(Protocol):
    @property
    def degraded(self) -> str | None:
        """Why frames currently reach fewer processes than configured, or None when all is well."""
        ...

    async def start(self, on_frame: FrameHandler) -> None: ...

    async def publish(self, frame: dict[str, Any]) -> int: ...

    async def publish_many(self, frames: list[dict[str, Any]]) -> list[int]:
        """The same for several frames, in order, in one round trip; returns their ids."""
        ...

    async def close(self) -> None: ...


class LoopForwarder:
    """Delivers frames to a handler that lives on `loop` (the one owning the sockets), from any thread, in the
    order they are handed over: directly when called on that loop with nothing queued, else queued on it."""

    def __init__(self, on_frame: FrameHandler, loop: asyncio.AbstractEventLoop) -> None:
        self._on_frame = on_frame
        self._loop = loop
        self._lock = threading.Lock()
        self._queued = 0

    def __call__(self, frame: dict[str, Any]) -> None:
        with self._lock:
            self.deliver_locked(frame)

    def deliver_locked(self, frame: dict[str, Any]) -> None:
        """The same, for a caller that holds `lock` (to number and hand over frames in one step)."""
        try:
            on_owner_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_owner_loop = False
        if on_owner_loop and not self._queued:
            self._on_frame(frame)
            return
        try:
            self._loop.call_soon_threadsafe(self._deliver_queued, frame)
        except RuntimeError:
            # The owning loop closed (shutdown): its sockets are gone, and so is anyone to tell.
            log.debug("realtime frame dropped: the sockets' loop is closed")
            return
        self._queued += 1

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def _deliver_queued(self, frame: dict[str, Any]) -> None:
        with self._lock:
            self._queued -= 1
        self._on_frame(frame)


class InProcessBroker:
    def __init__(self) -> None:
        self._ids = itertools.count(_clock_seed())
        self._forward: LoopForwarder | None = None

    @property
    def degraded(self) -> str | None:
        return None

    async def start(self, on_frame: FrameHandler) -> None:
        self._forward = LoopForwarder(on_frame, asyncio.get_running_loop())

    async def publish(self, frame: dict[str, Any]) -> int:
        forward = self._forward
        if forward is None:
            return next(self._ids)
        # Numbered and handed over under one lock: ids reach the sockets in increasing order from any thread.
        with forward.lock:
            event_id = next(self._ids)
            forward.deliver_locked({**frame, "id": event_id})
        return event_id

    async def publish_many(self, frames: list[dict[str, Any]]) -> list[int]:
        return [await self.publish(frame) for frame in frames]

    async def close(self) -> None:
        self._forward = None


# INCR and PUBLISH in one atomic script: ids reach subscribers in increasing order.
# The id is published as Redis's own string (GET): Lua concatenates numbers above 1e14 as "1.79e+15".
# ARGV[3]: the highest id this process handed out while Redis was away; the sequence continues above it.
_PUBLISH_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[2]) end
if tonumber(redis.call('GET', KEYS[1])) < tonumber(ARGV[3]) then redis.call('SET', KEYS[1], ARGV[3]) end
local id = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], redis.call('GET', KEYS[1]) .. ' ' .. ARGV[1])
return id
"""


# The same for many frames in one call: ARGV[1] seed, ARGV[2] floor, ARGV[3…] the frames' bodies.
_PUBLISH_MANY_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
if tonumber(redis.call('GET', KEYS[1])) < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[2]) end
local ids = {}
for i = 3, #ARGV do
  ids[#ids + 1] = redis.call('INCR', KEYS[1])
  redis.call('PUBLISH', KEYS[2], redis.call('GET', KEYS[1]) .. ' ' .. ARGV[i])
end
return ids
"""


class RedisBroker:
    def __init__(self, url: str, prefix: str, *, start_timeout: float = 3.0, retry_seconds: float = 1.0) -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=start_timeout, socket_timeout=start_timeout)
        self._seq_key = f"{prefix}:realtime:seq"
        self._channel = f"{prefix}:realtime"
        self._script = self._redis.register_script(_PUBLISH_SCRIPT)
        self._script_many = self._redis.register_script(_PUBLISH_MANY_SCRIPT)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._start_timeout = start_timeout
        self._retry_seconds = retry_seconds
        self._on_frame: FrameHandler | None = None
        self._local_ids = itertools.count(_clock_seed())
        self._floor = 0
        self._problem: str | None = None
        # Publisher-only (`start_publishing`): no subscription clears `_problem`, so retry Redis after this.
        self._retry_at = 0.0

    @property
    def degraded(self) -> str | None:
        return self._problem

    async def start(self, on_frame: FrameHandler) -> None:
        """Subscribe; when Redis does not answer within `start_timeout`, serve degraded and keep trying."""
        self._on_frame = on_frame
        self._task = asyncio.create_task(self._listen(on_frame), name="redis-realtime-listener")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=self._start_timeout)
        except TimeoutError:
            self._problem = "redis unreachable: realtime frames reach this process only"
            log.warning("redis is unreachable at start; realtime serves this process only until it is back")

    async def start_publishing(self, on_frame: FrameHandler) -> None:
        """Publish only, never subscribe: for a second loop of a process whose main loop subscribes already
        (the worker thread). `on_frame` gets this side's frames only while Redis is unreachable (degraded)."""
        self._on_frame = on_frame

    async def _listen(self, on_frame: FrameHandler) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(self._channel)
                async for message in pubsub.listen():
                    if message.get("type") == "subscribe":
                        # Ready only once Redis confirmed the subscription: earlier publishes would be lost.
                        self._ready.set()
                        self._problem = None
                    elif message.get("type") == "message":
                        self._dispatch(message["data"], on_frame)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Frames published while we were away are covered by the clients' re-sync.
                self._problem = f"redis unreachable ({type(exc).__name__}): realtime frames reach this process only"
                log.warning("redis realtime subscription lost; reconnecting: %s", exc)
                await asyncio.sleep(self._retry_seconds)

    @staticmethod
    def _dispatch(raw: bytes | str, on_frame: FrameHandler) -> None:
        """One malformed message is dropped; it must never tear down the subscription."""
        event_id, _, body = (raw.decode() if isinstance(raw, bytes) else raw).partition(" ")
        try:
            frame = {**json.loads(body), "id": int(event_id)}
        except (ValueError, TypeError):
            log.warning("dropping malformed realtime frame from redis")
            return
        on_frame(frame)

    async def publish(self, frame: dict[str, Any]) -> int:
        return (await self.publish_many([frame]))[0]

    async def publish_many(self, frames: list[dict[str, Any]]) -> list[int]:
        if not frames:
            return []
        bodies = [json.dumps(frame, separators=(",", ":"), default=str) for frame in frames]
        publisher_only = self._task is None
        if self._problem is None or (publisher_only and time.monotonic() >= self._retry_at):
            keys = [self._seq_key, self._channel]
            try:
                if len(bodies) == 1:
                    ids = [int(await self._script(keys=keys, args=[bodies[0], _clock_seed(), self._floor]))]
                else:
                    ids = [
                        int(i) for i in await self._script_many(keys=keys, args=[_clock_seed(), self._floor, *bodies])
                    ]
            except (aioredis.RedisError, OSError) as exc:
                self._problem = f"redis unreachable ({type(exc).__name__}): realtime frames reach this process only"
                self._retry_at = time.monotonic() + self._retry_seconds
                log.warning("redis publish failed; delivering to this process only: %s", exc)
            else:
                if publisher_only:
                    self._problem = None
                return ids
        # Degraded: this process's sockets still get the frames, with ids above any Redis gave out.
        ids = []
        for body in bodies:
            event_id = max(next(self._local_ids), self._floor + 1)
            self._floor = event_id
            ids.append(event_id)
            if self._on_frame is not None:
                self._on_frame({**json.loads(body), "id": event_id})
        return ids

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                log.debug("redis listener ended")
        await self._redis.aclose()
