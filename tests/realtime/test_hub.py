"""RealtimeHub and the brokers: audience filtering, increasing ids, replay, resync, slow clients, Redis fan-out."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import redis.asyncio as aioredis

from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.realtime.brokers import InProcessBroker, RedisBroker
from helpline.realtime.frames import TYPING_FRAME
from helpline.realtime.hub import RealtimeHub, Subscriber

AGENT_A = Principal(operator_id=1, role=Role.agent, channel_ids=frozenset({10}))
AGENT_B = Principal(operator_id=2, role=Role.agent, channel_ids=frozenset({20}))
SUPERVISOR = Principal(operator_id=3, role=Role.supervisor, channel_ids=frozenset())
ADMIN = Principal(operator_id=4, role=Role.admin, channel_ids=frozenset())


def frame(kind: str, *, channel_id: int | None = None, operator_id: int | None = None) -> dict[str, Any]:
    audience: dict[str, int] = {}
    if operator_id is not None:
        audience["operator_id"] = operator_id
    elif channel_id is not None:
        audience["channel_id"] = channel_id
    return {"type": kind, "audience": audience, "data": {"kind": kind}}


def drained(subscriber: Subscriber) -> list[dict[str, Any]]:
    """What the socket would send: queued frames as `deliverable` turns them into client views."""
    frames = []
    while not subscriber.queue.empty():
        view = subscriber.deliverable(subscriber.queue.get_nowait())
        if view is not None:
            frames.append(view)
    return frames


def types(frames: list[dict[str, Any]]) -> list[str]:
    return [f["type"] for f in frames]


async def started(buffer_size: int = 10_000) -> tuple[RealtimeHub, InProcessBroker]:
    hub = RealtimeHub(buffer_size)
    broker = InProcessBroker()
    await broker.start(hub.on_frame)
    return hub, broker


async def test_frames_reach_only_the_sockets_allowed_to_see_them() -> None:
    hub, broker = await started()
    subs = {p.operator_id: hub.subscribe(p, None) for p in (AGENT_A, AGENT_B, SUPERVISOR, ADMIN)}

    await broker.publish(frame("on-10", channel_id=10))
    await broker.publish(frame("on-20", channel_id=20))
    await broker.publish(frame("for-agent-b", operator_id=2))
    await broker.publish(frame("for-supervisor", operator_id=3))
    await broker.publish(frame("no-channel"))

    assert types(drained(subs[1])) == ["on-10"]
    assert types(drained(subs[2])) == ["on-20", "for-agent-b"]
    assert types(drained(subs[3])) == ["on-10", "on-20", "for-supervisor", "no-channel"]
    assert types(drained(subs[4])) == ["on-10", "on-20", "no-channel"]


async def test_clients_never_see_the_routing_information() -> None:
    hub, broker = await started()
    sub = hub.subscribe(ADMIN, None)
    event_id = await broker.publish(frame("x", channel_id=10))
    (received,) = drained(sub)
    assert "audience" not in received
    assert received["id"] == event_id
    assert received["data"] == {"kind": "x"}


async def test_event_ids_strictly_increase() -> None:
    hub, broker = await started()
    sub = hub.subscribe(ADMIN, None)
    returned = [await broker.publish(frame(f"f{i}", channel_id=10)) for i in range(50)]
    received = [f["id"] for f in drained(sub)]
    assert received == returned
    assert all(a < b for a, b in itertools.pairwise(received))
    assert hub.last_event_id == returned[-1]


async def test_reconnecting_client_gets_what_it_missed_filtered_by_audience() -> None:
    hub, broker = await started()
    first = hub.subscribe(AGENT_A, None)
    await broker.publish(frame("seen", channel_id=10))
    (seen,) = drained(first)
    hub.unsubscribe(first)

    await broker.publish(frame("missed-1", channel_id=10))
    await broker.publish(frame("not-mine", channel_id=20))
    await broker.publish(frame("someone-elses", operator_id=2))
    await broker.publish(frame("missed-2", channel_id=10))

    again = hub.subscribe(AGENT_A, seen["id"])
    replayed = drained(again)
    assert types(replayed) == ["missed-1", "missed-2"]
    assert all(f["id"] > seen["id"] for f in replayed)

    await broker.publish(frame("live", channel_id=10))
    assert types(drained(again)) == ["live"]


async def test_typing_reaches_live_sockets_of_the_channel_but_is_never_replayed() -> None:
    hub, broker = await started()
    first = hub.subscribe(AGENT_A, None)
    other = hub.subscribe(AGENT_B, None)
    await broker.publish(frame("seen", channel_id=10))
    (seen,) = drained(first)
    await broker.publish(frame(TYPING_FRAME, channel_id=10))
    assert types(drained(first)) == [TYPING_FRAME]
    assert drained(other) == []  # not a member of channel 10
    hub.unsubscribe(first)

    await broker.publish(frame(TYPING_FRAME, channel_id=10))
    await broker.publish(frame("missed", channel_id=10))
    again = hub.subscribe(AGENT_A, seen["id"])
    assert types(drained(again)) == ["missed"]  # "is typing" from seconds ago would be false by now


async def test_up_to_date_client_gets_nothing_replayed() -> None:
    hub, broker = await started()
    await broker.publish(frame("old", channel_id=10))
    sub = hub.subscribe(AGENT_A, hub.last_event_id)
    assert drained(sub) == []


async def test_last_event_id_older_than_the_buffer_yields_resync() -> None:
    hub, broker = await started(buffer_size=3)
    ids = [await broker.publish(frame(f"f{i}", channel_id=10)) for i in range(6)]
    sub = hub.subscribe(AGENT_A, ids[0])
    assert types(drained(sub)) == ["resync"]
    # The oldest buffered frame's predecessor is still a complete replay.
    sub = hub.subscribe(AGENT_A, ids[2])
    assert types(drained(sub)) == ["f3", "f4", "f5"]


async def test_last_event_id_from_before_a_restart_yields_resync() -> None:
    old_hub, old_broker = await started()
    for i in range(3):
        await old_broker.publish(frame(f"old{i}", channel_id=10))
    seen = old_hub.last_event_id

    # The server restarted: an empty hub and a new broker.
    hub, broker = await started()
    assert types(drained(hub.subscribe(AGENT_A, seen))) == ["resync"]

    # Even after new frames, the new ids are larger, and the old id is not in the buffer.
    await broker.publish(frame("new", channel_id=10))
    assert hub.last_event_id > seen
    assert types(drained(hub.subscribe(AGENT_A, seen))) == ["resync"]


async def test_last_event_id_newer_than_anything_seen_yields_resync() -> None:
    hub, broker = await started()
    await broker.publish(frame("f", channel_id=10))
    sub = hub.subscribe(ADMIN, hub.last_event_id + 1000)
    assert types(drained(sub)) == ["resync"]


async def test_slow_client_is_dropped_and_told_to_resync() -> None:
    hub, broker = await started()
    slow = hub.subscribe(ADMIN, None)
    fast = hub.subscribe(ADMIN, None)
    capacity = slow.queue.maxsize
    for i in range(capacity + 5):
        await broker.publish(frame(f"f{i}", channel_id=10))
        drained(fast)

    assert slow.overflowed
    assert not fast.overflowed
    assert hub.client_count == 1
    assert slow.queue.qsize() == capacity
    # What the socket pump does: send what was queued, then the resync frame, then close.
    assert types(drained(slow))[-1] == f"f{capacity - 1}"

    await broker.publish(frame("after", channel_id=10))
    assert drained(slow) == []
    assert types(drained(fast)) == ["after"]


async def test_unsubscribed_client_gets_nothing() -> None:
    hub, broker = await started()
    sub = hub.subscribe(ADMIN, None)
    hub.unsubscribe(sub)
    await broker.publish(frame("x", channel_id=10))
    assert drained(sub) == []
    assert hub.client_count == 0


# ---------------------------------------------------------------- Redis


async def _subscribers(url: str, channel: str) -> int:
    client = aioredis.from_url(url)
    try:
        counts = await client.pubsub_numsub(channel)
    finally:
        await client.aclose()
    return int(counts[0][1])


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not await predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_redis_brokers_with_the_same_prefix_share_frames(redis_url: str) -> None:
    prefix = f"helpline-test-{uuid.uuid4().hex[:8]}"
    hub_a, hub_b = RealtimeHub(), RealtimeHub()
    broker_a, broker_b = RedisBroker(redis_url, prefix), RedisBroker(redis_url, prefix)
    other_hub = RealtimeHub()
    other = RedisBroker(redis_url, f"{prefix}-other")
    try:
        await broker_a.start(hub_a.on_frame)
        await broker_b.start(hub_b.on_frame)
        await other.start(other_hub.on_frame)

        # start() returns once SUBSCRIBE was sent; wait until Redis has registered both listeners.
        async def both_listening() -> bool:
            return await _subscribers(redis_url, f"{prefix}:realtime") == 2

        await wait_for(both_listening)
        sub_b = hub_b.subscribe(AGENT_A, None)

        published = []
        for i in range(5):
            broker = broker_a if i % 2 == 0 else broker_b
            published.append(await broker.publish(frame(f"f{i}", channel_id=10)))
        await broker_a.publish(frame("not-for-agent-a", channel_id=20))

        async def arrived() -> bool:
            return sub_b.queue.qsize() >= 5 and hub_a.last_event_id >= published[-1] + 1

        await wait_for(arrived)
        received = drained(sub_b)
        assert types(received) == [f"f{i}" for i in range(5)]
        assert [f["id"] for f in received] == published
        assert all(a < b for a, b in itertools.pairwise(published))
        assert hub_a.last_event_id == hub_b.last_event_id == published[-1] + 1
        # A different prefix is a different installation.
        assert other_hub.last_event_id == 0
    finally:
        for broker in (broker_a, broker_b, other):
            await broker.close()
        client = aioredis.from_url(redis_url)
        try:
            keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


async def test_redis_ids_are_seeded_from_the_clock(redis_url: str) -> None:
    """A fresh sequence (new prefix, or Redis flushed) starts above ids handed out earlier, so clients resync."""
    prefix = f"helpline-test-{uuid.uuid4().hex[:8]}"
    _, local = await started()
    before = await local.publish(frame("x"))
    hub = RealtimeHub()
    broker = RedisBroker(redis_url, prefix)
    try:
        await broker.start(hub.on_frame)
        ids = [await broker.publish(frame("x")) for _ in range(3)]
        assert ids[0] > before
        assert ids == sorted(set(ids))
    finally:
        await broker.close()
        client = aioredis.from_url(redis_url)
        try:
            await client.delete(f"{prefix}:realtime:seq")
        finally:
            await client.aclose()


async def test_frames_published_from_another_thread_reach_the_sockets_in_id_order() -> None:
    # The worker thread (worker_thread.py) publishes through the same in-process broker as the server's loop.
    hub = RealtimeHub()
    broker = InProcessBroker()
    await broker.start(hub.on_frame)
    admin = hub.subscribe(ADMIN, None)

    def publish_from_thread(count: int) -> None:
        async def publish_all() -> None:
            for i in range(count):
                await broker.publish(frame(f"thread.{i}"))

        asyncio.run(publish_all())

    worker = asyncio.create_task(asyncio.to_thread(publish_from_thread, 200))
    for i in range(50):
        await broker.publish(frame(f"loop.{i}"))
        await asyncio.sleep(0)
    await worker
    for _ in range(10):  # let the queued hand-overs run on this loop
        await asyncio.sleep(0)
    frames = drained(admin)
    assert len(frames) == 250
    ids = [f["id"] for f in frames]
    assert ids == sorted(ids)
    assert [f["type"] for f in frames if f["type"].startswith("thread.")] == [f"thread.{i}" for i in range(200)]


async def test_a_batch_of_frames_is_one_redis_call_and_a_publisher_only_broker_receives_nothing(
    redis_url: str,
) -> None:
    # The worker side (`start_publishing`): frames go out through Redis to the subscribing process only.
    prefix = f"helpline-test-{uuid.uuid4().hex[:8]}"
    hub, publisher_hub = RealtimeHub(), RealtimeHub()
    subscriber_broker, publisher = RedisBroker(redis_url, prefix), RedisBroker(redis_url, prefix)
    try:
        await subscriber_broker.start(hub.on_frame)
        await publisher.start_publishing(publisher_hub.on_frame)
        admin = hub.subscribe(ADMIN, None)
        single = await publisher.publish(frame("first"))
        ids = await publisher.publish_many([frame(f"b{i}", channel_id=10) for i in range(4)])
        assert ids == [single + 1 + i for i in range(4)]

        async def arrived() -> bool:
            return admin.queue.qsize() >= 5

        await wait_for(arrived)
        received = drained(admin)
        assert types(received) == ["first", "b0", "b1", "b2", "b3"]
        assert [f["id"] for f in received] == [single, *ids]
        assert publisher_hub.last_event_id == 0
    finally:
        for broker in (subscriber_broker, publisher):
            await broker.close()
        client = aioredis.from_url(redis_url)
        try:
            await client.delete(f"{prefix}:realtime:seq")
        finally:
            await client.aclose()
