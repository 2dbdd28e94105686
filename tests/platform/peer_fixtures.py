"""Fixtures that replace the app's outbound HTTP client with a scripted Peer (imported by conftests)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from helpline.settings import Settings
from tests.platform.fake_peer import Peer, running_app


@pytest.fixture
def peer() -> Peer:
    return Peer()


@pytest.fixture
async def app(settings: Settings, peer: Peer) -> AsyncIterator[FastAPI]:
    """Overrides the top-level `app`: same app, but every outbound request goes to `peer`."""
    async with running_app(settings, peer) as application:
        yield application
