"""Single-use realtime tickets for clients that cannot send a header: one socket, once, briefly, as the session."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from helpline.realtime import tickets
from helpline.realtime.tickets import MemoryTickets, RedisTickets
from tests.conftest import PASSWORD, World, make_world
from tests.e2e.conftest import LiveApp, next_frame, serve_app
from tests.realtime.test_revocation import REVOCATION_BOUND, closed_within

TICKETS = "/api/v1/realtime/tickets"


@pytest.fixture
async def live(tmp_path: Path, db_url: str) -> AsyncIterator[LiveApp]:
    async with serve_app(tmp_path, db_url, run_workers=False) as app:
        yield app


@pytest.fixture
async def world(live: LiveApp) -> World:
    return await make_world(live.runtime, live.client)


async def ticket_for(live: LiveApp, token: str) -> str:
    response = await live.client.post(TICKETS, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["expires_in"] == 30
    ticket: str = body["ticket"]
    assert ticket.startswith("hlt_") and len(ticket) >= 40
    return ticket


async def test_a_ticket_opens_one_socket_once(live: LiveApp, world: World) -> None:
    ticket = await ticket_for(live, world.agent.token)
    async with connect(f"{live.ws_url}?ticket={ticket}", open_timeout=10) as ws:
        hello = await next_frame(ws)
        assert (hello["type"], hello["operator_id"]) == ("hello", world.agent.id)
    # Used: the same ticket grants nothing any more.
    async with connect(f"{live.ws_url}?ticket={ticket}", open_timeout=10) as again:
        code, _ = await closed_within(again, 5)
    assert code == 4401
    # Nor does a made-up one, nor a session token passed as a ticket.
    for fake in ("hlt_made-up", world.agent.token):
        async with connect(f"{live.ws_url}?ticket={fake}", open_timeout=10) as ws:
            assert (await closed_within(ws, 5))[0] == 4401


async def test_a_ticket_socket_obeys_logout_and_a_ticket_of_an_ended_session_opens_nothing(
    live: LiveApp, world: World
) -> None:
    ticket = await ticket_for(live, world.agent.token)
    unused = await ticket_for(live, world.agent.token)
    ws = await connect(f"{live.ws_url}?ticket={ticket}", open_timeout=10)
    assert (await next_frame(ws))["type"] == "hello"
    assert (await live.client.post("/api/v1/auth/logout", headers=world.agent.headers)).status_code == 204
    code, took = await closed_within(ws, REVOCATION_BOUND + 0.5)
    assert (code, took < REVOCATION_BOUND) == (4401, True)
    async with connect(f"{live.ws_url}?ticket={unused}", open_timeout=10) as late:
        assert (await closed_within(late, 5))[0] == 4401


async def test_asking_for_a_ticket_needs_a_session_and_the_csrf_header_with_a_cookie(
    live: LiveApp, world: World
) -> None:
    assert (await live.client.post(TICKETS)).status_code == 401
    login = await live.client.post("/api/v1/auth/login", json={"email": world.supervisor.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    csrf = live.client.cookies.get("helpline_csrf")
    assert (await live.client.post(TICKETS)).status_code == 403  # cookie without the CSRF header
    response = await live.client.post(TICKETS, headers={"X-CSRF-Token": csrf or ""})
    assert response.status_code == 201, response.text
    live.client.cookies.clear()


async def test_a_ticket_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryTickets(ttl_seconds=30)
    kept, late = await store.issue(7), await store.issue(8)
    assert await store.redeem(kept) == 7
    now = time.monotonic()
    monkeypatch.setattr(tickets.time, "monotonic", lambda: now + 31)
    assert await store.redeem(late) is None


async def test_tickets_are_shared_and_single_use_across_processes_through_redis(redis_url: str) -> None:
    prefix = f"helpline-test-tickets-{time.time_ns()}"
    issuer, first, second = (RedisTickets(redis_url, prefix, ttl_seconds=30) for _ in range(3))
    ticket = await issuer.issue(42)
    assert await first.redeem(ticket) == 42
    assert await second.redeem(ticket) is None
    for store in (issuer, first, second):
        await store.close()
