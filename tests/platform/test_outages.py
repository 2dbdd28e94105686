"""Outages: a database that is down answers 503 with Retry-After; Redis down never stops the API, realtime
degrades to this process (and says so in /api/v1/health), and ids continue above the ones handed out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from helpline.app import RETRY_AFTER_SECONDS, create_app
from helpline.realtime.brokers import RedisBroker
from tests.conftest import POSTGRES_ADMIN_URL, make_settings

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
UNREACHABLE_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/helpline"


async def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def app_without_database(tmp_path: Path) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(tmp_path, UNREACHABLE_POSTGRES), migrate=False)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_database_outage_answers_503_with_retry_after(app_without_database: FastAPI) -> None:
    async with await _client(app_without_database) as client:
        login = await client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x" * 12})
        listed = await client.get("/api/v1/conversations", headers={"Authorization": "Bearer hl_x"})
        health = await client.get("/api/v1/health")
    for response in (login, listed):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert response.json()["error"]["code"] == "database_unavailable"
    assert health.status_code == 503 and "database" in health.json()["degraded"]


async def test_the_api_starts_and_serves_with_redis_down(tmp_path: Path, db_url: str) -> None:
    application = create_app(make_settings(tmp_path, db_url, redis_url=UNREACHABLE_REDIS), migrate=False)
    async with application.router.lifespan_context(application):
        async with await _client(application) as client:
            health = (await client.get("/api/v1/health")).json()
        assert health["status"] == "degraded" and health["degraded"] == ["realtime"]
        assert "redis unreachable" in health["realtime_state"]
        # Frames still reach this process's relay (and its sockets).
        runtime = application.state.runtime
        first = await runtime.broker.publish({"type": "t", "audience": {}})
        second = await runtime.broker.publish({"type": "t", "audience": {}})
        assert second > first and runtime.hub.last_event_id == second


async def test_after_an_outage_redis_ids_continue_above_the_local_ones(redis_url: str) -> None:
    broker = RedisBroker(redis_url, "helpline-test-outage", start_timeout=5)
    seen: list[dict[str, Any]] = []
    await broker.start(seen.append)
    try:
        assert broker.degraded is None
        broker._problem = "simulated outage"
        local = await broker.publish({"type": "t"})
        broker._problem = None  # what the listener does when it subscribes again
        shared = await broker.publish({"type": "t"})
        assert shared > local
    finally:
        await broker.close()


@pytest.fixture
async def role_without_connections(postgres_database: str) -> AsyncIterator[str]:
    """A URL of the test database for a role that may open no connection: PostgreSQL refuses every
    connect with SQLSTATE 53300 (too many connections), as when max_connections is reached."""
    role = f"helpline_no_connections_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
        yield postgres_database.replace("://postgres@", f"://{role}@", 1)
    finally:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()


async def test_too_many_connections_answers_503_not_500(tmp_path: Path, role_without_connections: str) -> None:
    application = create_app(make_settings(tmp_path, role_without_connections), migrate=False)
    async with application.router.lifespan_context(application), await _client(application) as client:
        listed = await client.get("/api/v1/conversations", headers={"Authorization": "Bearer hl_x"})
        inbound = await client.post("/api/v1/channels/1/inbound", content=b"{}", headers={"X-Signature": "x"})
    for response in (listed, inbound):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
