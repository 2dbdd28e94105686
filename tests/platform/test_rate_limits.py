"""Flood limits: a channel over its inbound limit gets 429 + Retry-After and starves no other; limits hold across
processes through Redis; an unreachable limit store never costs a customer's message."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from helpline.conversations.models import Message
from helpline.platform.rate_limits import RateLimited, RateLimits, parse_limit
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.conftest import World, make_settings
from tests.conversations.conftest import add_api_channel
from tests.support import post_inbound


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url, inbound_channel_limit="3/minute")


async def stored_messages(runtime: Runtime, channel_id: int) -> int:
    async with runtime.db.reads() as session:
        found: int = await session.scalar(
            select(func.count()).select_from(Message).where(Message.channel_id == channel_id)
        )
    return found


async def test_a_channel_over_its_inbound_limit_gets_429_and_other_channels_are_not_starved(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    # Unsigned requests are refused before they are counted: a stranger cannot use up the channel's allowance.
    for n in range(5):
        forged = await post_inbound(client, world.channel_id, "not-the-secret", message_id=f"forged-{n}")
        assert forged.status_code == 401
    for n in range(3):
        accepted = await post_inbound(client, world.channel_id, world.channel_secret, message_id=f"m-{n}")
        assert accepted.status_code == 200, accepted.text
    refused = await post_inbound(client, world.channel_id, world.channel_secret, message_id="m-3")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json()["error"]["details"]["retry_after"] == retry_after
    assert await stored_messages(runtime, world.channel_id) == 3  # nothing of the refused request was kept

    other = await add_api_channel(client, world.admin, name="Quiet line", member_ids=[])
    for n in range(3):
        response = await post_inbound(client, other.id, other.secret, message_id=f"quiet-{n}")
        assert response.status_code == 200, response.text
    assert await stored_messages(runtime, other.id) == 3
    counted = runtime.metrics.rate_limited.labels("inbound-channel")._value.get()
    assert counted == 1


def limits(redis_url: str, prefix: str, **named: str) -> RateLimits:
    values = {"login_address": "", "inbound_channel": "", "inbound_contact": "", "bot_reply": "", **named}
    return RateLimits(**values, redis_url=redis_url, prefix=prefix)


async def test_limits_hold_across_processes_through_redis(redis_url: str) -> None:
    prefix = f"helpline-test-limits-{time.time_ns()}"
    first, second = (limits(redis_url, prefix, inbound_contact="4/minute") for _ in range(2))
    assert await first.inbound_contact.hit("contact-1", cost=3) is None
    assert await second.inbound_contact.hit("contact-1") is None
    wait = await second.inbound_contact.hit("contact-1")
    assert wait is not None and 0 < wait <= 60
    assert await first.inbound_contact.wait("contact-1") is not None
    # Another contact has its own allowance; a limit left empty never limits.
    assert await first.inbound_contact.hit("contact-2") is None
    assert not first.bot_reply.enabled and await first.bot_reply.hit("contact-1", cost=1000) is None
    await first.close()
    await second.close()


async def test_one_process_in_memory_counts_every_window() -> None:
    memory = limits("", "p", bot_reply="2/minute;3/hour")
    assert await memory.bot_reply.hit("c") is None
    assert await memory.bot_reply.hit("c") is None
    with pytest.raises(RateLimited) as over:
        await memory.bot_reply.enforce("c", "too many")
    assert over.value.status_code == 429 and 1 <= over.value.retry_after <= 60


async def test_an_unreachable_limit_store_lets_messages_through(caplog: pytest.LogCaptureFixture) -> None:
    down = limits("redis://127.0.0.1:1/0", "down", inbound_channel="1/minute")
    for _ in range(3):
        assert await down.inbound_channel.hit("7") is None
    warnings = [r for r in caplog.records if "rate-limit store unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once a message
    await down.close()


def test_limit_settings_are_checked(tmp_path: Path) -> None:
    assert [str(item) for item in parse_limit("20/minute;200/hour")] == ["20 per 1 minute", "200 per 1 hour"]
    assert parse_limit("") == []
    with pytest.raises(ValueError, match="not a rate limit"):
        make_settings(tmp_path, "sqlite+aiosqlite:///x.db", inbound_contact_limit="twenty a minute")
