"""Login throttles: atomic per-account claims under concurrency (SQLite and PostgreSQL), per-address limits against
password spraying, 429 with Retry-After, and X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from helpline.app import create_app
from helpline.auth.models import LoginThrottle
from helpline.auth.throttle import ThrottlePolicy, claim_attempt
from helpline.platform.db import Database
from helpline.platform.errors import TooManyRequests
from helpline.platform.proxies import client_from_forwarded, parse_networks
from helpline.runtime import Runtime
from tests.conftest import PASSWORD, World, make_settings, make_world

LOGIN = "/api/v1/auth/login"
POLICY = ThrottlePolicy(max_failures=5, lock_seconds=60)


async def test_concurrent_claims_never_exceed_the_limit(db_url: str) -> None:
    """40 attempts at once for one account: exactly 5 are let through to the password check."""
    db = Database(db_url)
    try:

        async def attempt() -> str:
            try:
                await claim_attempt(db, "agent@example.com", POLICY)
            except TooManyRequests:
                return "locked"
            return "checked"

        outcomes = Counter(await asyncio.gather(*(attempt() for _ in range(40))))
        assert outcomes == {"checked": 5, "locked": 35}
        async with db.reads() as session:
            row = (await session.execute(select(LoginThrottle))).scalar_one()
        assert row.failures == 5
        assert row.locked_until is not None
    finally:
        await db.dispose()


async def test_concurrent_first_failures_for_one_email_all_get_an_answer(db_url: str) -> None:
    """Two first failures used to both insert the counter row (one answered 500)."""
    db = Database(db_url)
    try:
        results = await asyncio.gather(
            *(claim_attempt(db, "new@example.com", ThrottlePolicy(100, 60)) for _ in range(12)),
            return_exceptions=True,
        )
        assert [r for r in results if r is not None] == []
        async with db.reads() as session:
            row = await session.get(LoginThrottle, "new@example.com")
        assert row is not None and row.failures == 12
    finally:
        await db.dispose()


async def test_concurrent_wrong_guesses_over_http_are_checked_at_most_max_times(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    limit = runtime.settings.login_max_failures
    responses = await asyncio.gather(
        *(client.post(LOGIN, json={"email": world.agent.email, "password": f"guess {i}"}) for i in range(40))
    )
    codes = Counter(r.status_code for r in responses)
    assert codes == {401: limit, 429: 40 - limit}
    assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)
    # The right password is refused too while the account is locked.
    right = await client.post(LOGIN, json={"email": world.agent.email, "password": PASSWORD})
    assert right.status_code == 429


# ---------------------------------------------------------------- per address


@pytest.fixture
async def spray_app(tmp_path: Path, db_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(tmp_path, db_url, login_ip_limit="3/minute", trusted_proxies=["127.0.0.1/32"])
    application = create_app(settings, migrate=False)
    async with application.router.lifespan_context(application):
        yield application


async def test_password_spraying_from_one_address_is_limited(spray_app: FastAPI) -> None:
    runtime: Runtime = spray_app.state.runtime
    transport = httpx.ASGITransport(app=spray_app, client=("192.0.2.10", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as attacker:
        world = await make_world(runtime, attacker)
        for email in ("admin@example.com", "supervisor@example.com", "agent@example.com"):
            response = await attacker.post(LOGIN, json={"email": email, "password": "Summer2026!"})
            assert response.status_code == 401
        # A fourth account, even with the right password: the address is blocked, not the account.
        blocked = await attacker.post(LOGIN, json={"email": world.outsider.email, "password": PASSWORD})
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "too_many_requests"
        assert 0 < int(blocked.headers["retry-after"]) <= 60
        # X-Forwarded-For from an untrusted peer is ignored: it cannot pick a fresh address.
        spoofed = await attacker.post(
            LOGIN,
            json={"email": world.outsider.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.7"},
        )
        assert spoofed.status_code == 429
    # Another client, through the trusted proxy (127.0.0.1), is not affected.
    via_proxy = httpx.ASGITransport(app=spray_app, client=("127.0.0.1", 5001))
    async with httpx.AsyncClient(transport=via_proxy, base_url="http://testserver") as colleague:
        ok = await colleague.post(
            LOGIN,
            json={"email": world.outsider.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.7"},
        )
        assert ok.status_code == 200, ok.text


def test_forwarded_for_is_read_right_to_left_through_trusted_hops_only() -> None:
    trusted = parse_networks(["10.0.0.0/8", "127.0.0.1"])
    # The client claimed 1.2.3.4 itself; our proxies 10.0.0.2 then 10.0.0.1 saw 203.0.113.9.
    assert client_from_forwarded("10.0.0.1", "1.2.3.4, 203.0.113.9, 10.0.0.2", trusted) == "203.0.113.9"
    assert client_from_forwarded("10.0.0.1", "203.0.113.9", trusted) == "203.0.113.9"
    # An untrusted peer's header is not read at all.
    assert client_from_forwarded("192.0.2.1", "203.0.113.9", trusted) == "192.0.2.1"
    # Garbage stops the walk at the last trustworthy hop.
    assert client_from_forwarded("10.0.0.1", "not-an-ip", trusted) == "10.0.0.1"


async def test_loopback_is_not_trusted_by_default(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    """The default trusts nobody: the audit log records the real peer, not the header."""
    assert runtime.settings.trusted_proxies == []
    await client.post(
        LOGIN, json={"email": world.agent.email, "password": "nope"}, headers={"X-Forwarded-For": "8.8.8.8"}
    )
    audit = await client.get("/api/v1/audit?action=auth.login_failed", headers=world.admin.headers)
    assert audit.status_code == 200, audit.text
    assert [entry["ip"] for entry in audit.json()] == ["127.0.0.1"]
