"""Erasure reaches the realtime replay buffer of every process, not only the one that served the request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import httpx
import pytest

from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.conftest import World, drain, make_settings
from tests.privacy.test_staff_privacy import CARD, NAME, person_with_everything


@pytest.fixture
def settings(tmp_path: Path, db_url: str, redis_url: str) -> Settings:
    return make_settings(tmp_path, db_url, redis_url=redis_url)


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[Runtime]:
    """A second API process: its own hub and replay buffer, the same database and Redis."""
    other = Runtime.create(settings)
    await other.start_realtime()
    try:
        yield other
    finally:
        await other.close()


def buffered(runtime: Runtime) -> str:
    return "\n".join(json.dumps(frame, ensure_ascii=False, default=str) for frame in runtime.hub._buffer).lower()


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Frames cross processes through Redis pub/sub: wait (bounded, 5 s) for `check` to hold."""
    for _ in range(100):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def test_erasure_empties_every_processs_replay_buffer_of_the_person(
    client: httpx.AsyncClient, world: World, runtime: Runtime, other_process: Runtime
) -> None:
    contact_id, _ = await person_with_everything(client, world, runtime)
    await eventually(lambda: CARD in buffered(other_process), "the other process never buffered the frames")
    assert NAME.lower() in buffered(other_process)
    erased = await client.post(f"/api/v1/contacts/{contact_id}/erase", headers=world.supervisor.headers)
    assert erased.status_code == 200, erased.text
    await drain(runtime)
    for process in (runtime, other_process):
        await eventually(partial(lambda p: CARD not in buffered(p), process), "a replay buffer kept the card number")
        text = buffered(process)
        assert NAME.lower() not in text and "zelda's refund" not in text
        assert "bob bystander" in text  # a bystander's frames stay
