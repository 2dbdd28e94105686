"""Authentication and permissions: login, lockout, cookies and CSRF, logout, roles, channel visibility, the CLI."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from sqlalchemy import func, select

from helpline.auth.models import Operator
from helpline.auth.passwords import verify_password
from helpline.channels.models import Channel
from helpline.cli import main
from helpline.conversations.models import Message
from helpline.profiles.models import Event, Profile
from helpline.runtime import Runtime
from tests.conftest import PASSWORD, SECRET, World
from tests.support import post_inbound

LOGIN = "/api/v1/auth/login"


@pytest.fixture
async def fresh(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with an empty cookie jar (the shared `client` holds the cookies of every persona's login)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def conversation(client: httpx.AsyncClient, world: World, runtime: Runtime) -> int:
    response = await post_inbound(client, world.channel_id, world.channel_secret)
    assert response.status_code == 200, response.text
    async with runtime.db.sessions() as session:
        message = await session.get(Message, response.json()["message_ids"][0])
        assert message is not None
        return message.conversation_id


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    if code:
        assert error["code"] == code


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


# ---------------------------------------------------------------- login and lockout


async def test_login_returns_a_bearer_token_and_sets_session_and_csrf_cookies(
    fresh: httpx.AsyncClient, world: World
) -> None:
    response = await fresh.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["token_type"] == "bearer"
    assert data["access_token"]
    assert data["operator"]["id"] == world.agent.id
    assert data["operator"]["channel_ids"] == [world.channel_id]
    assert "password_hash" not in data["operator"]

    cookies = set_cookies(response)
    session_cookie = cookies["helpline_session"]
    assert re.search(r"httponly", session_cookie, re.IGNORECASE)
    assert re.search(r"samesite=lax", session_cookie, re.IGNORECASE)
    assert f"helpline_session={data['access_token']}" in session_cookie
    csrf_cookie = cookies["helpline_csrf"]
    assert f"helpline_csrf={data['csrf_token']}" in csrf_cookie
    # The page's script must read the CSRF cookie, so it is not HttpOnly.
    assert not re.search(r"httponly", csrf_cookie, re.IGNORECASE)

    me = await fresh.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {data['access_token']}"})
    assert me.json()["email"] == "agent@example.com"


async def test_login_is_case_insensitive_about_the_email(fresh: httpx.AsyncClient, world: World) -> None:
    response = await fresh.post(LOGIN, json={"email": "Agent@Example.COM", "password": PASSWORD})
    assert response.status_code == 200, response.text


async def test_wrong_password_is_401_with_the_error_shape(fresh: httpx.AsyncClient, world: World) -> None:
    response = await fresh.post(LOGIN, json={"email": "agent@example.com", "password": "wrong password"})
    assert_error(response, 401, "bad_credentials")
    assert "helpline_session" not in set_cookies(response)
    unknown = await fresh.post(LOGIN, json={"email": "nobody@example.com", "password": PASSWORD})
    assert_error(unknown, 401, "bad_credentials")
    # Same answer whether or not the account exists.
    assert unknown.json()["error"]["message"] == response.json()["error"]["message"]


async def test_lockout_after_max_failures_refuses_even_the_right_password(
    fresh: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    limit = runtime.settings.login_max_failures
    for _ in range(limit):
        assert_error(await fresh.post(LOGIN, json={"email": "agent@example.com", "password": "nope"}), 401)
    locked = await fresh.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD})
    assert_error(locked, 429, "too_many_requests")
    assert int(locked.headers["retry-after"]) > 0
    # Other accounts are not affected.
    assert (await fresh.post(LOGIN, json={"email": "admin@example.com", "password": PASSWORD})).status_code == 200


async def test_lockout_cannot_be_sidestepped_by_spelling_the_email_differently(
    fresh: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    for _ in range(runtime.settings.login_max_failures):
        await fresh.post(LOGIN, json={"email": "agent@example.com", "password": "nope"})
    for spelling in ("AGENT@example.com", "  agent@example.com", "agent@example.com \t"):
        response = await fresh.post(LOGIN, json={"email": spelling, "password": PASSWORD})
        assert_error(response, 429, "too_many_requests")


async def test_lockout_applies_to_unknown_emails_too(fresh: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    for _ in range(runtime.settings.login_max_failures):
        assert_error(await fresh.post(LOGIN, json={"email": "ghost@example.com", "password": "guess"}), 401)
    assert_error(await fresh.post(LOGIN, json={"email": "ghost@example.com", "password": "guess"}), 429)


async def test_a_successful_login_resets_the_failure_count(
    fresh: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    limit = runtime.settings.login_max_failures
    for _ in range(limit - 1):
        await fresh.post(LOGIN, json={"email": "agent@example.com", "password": "nope"})
    assert (await fresh.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD})).status_code == 200
    for _ in range(limit - 1):
        await fresh.post(LOGIN, json={"email": "agent@example.com", "password": "nope"})
    assert (await fresh.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD})).status_code == 200


# ---------------------------------------------------------------- cookies, CSRF, logout


async def test_cookie_session_needs_the_csrf_header_for_writes(
    fresh: httpx.AsyncClient, client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    conversation_id = await conversation(client, world, runtime)
    login = await fresh.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD})
    csrf = login.json()["csrf_token"]
    url = f"/api/v1/conversations/{conversation_id}/read"

    # Reads ride on the cookie alone.
    assert (await fresh.get(f"/api/v1/conversations/{conversation_id}")).status_code == 200
    assert_error(await fresh.post(url), 403, "csrf")
    assert_error(await fresh.post(url, headers={"X-CSRF-Token": "forged"}), 403, "csrf")
    assert (await fresh.post(url, headers={"X-CSRF-Token": csrf})).status_code == 200


async def test_bearer_requests_need_no_csrf(
    fresh: httpx.AsyncClient, client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    conversation_id = await conversation(client, world, runtime)
    response = await fresh.post(f"/api/v1/conversations/{conversation_id}/read", headers=world.agent.headers)
    assert response.status_code == 200, response.text


async def test_logout_invalidates_the_token(fresh: httpx.AsyncClient, world: World) -> None:
    assert (await fresh.get("/api/v1/auth/me", headers=world.agent.headers)).status_code == 200
    response = await fresh.post("/api/v1/auth/logout", headers=world.agent.headers)
    assert response.status_code == 204
    assert_error(await fresh.get("/api/v1/auth/me", headers=world.agent.headers), 401, "unauthorized")
    # Other sessions stay valid.
    assert (await fresh.get("/api/v1/auth/me", headers=world.admin.headers)).status_code == 200


async def test_cookie_logout_clears_the_cookies_and_the_session(fresh: httpx.AsyncClient, world: World) -> None:
    login = await fresh.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD})
    token, csrf = login.json()["access_token"], login.json()["csrf_token"]
    response = await fresh.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert "helpline_session" in set_cookies(response)
    assert_error(await fresh.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_a_deactivated_operator_can_no_longer_use_its_token(fresh: httpx.AsyncClient, world: World) -> None:
    response = await fresh.patch(
        f"/api/v1/operators/{world.agent.id}", json={"active": False}, headers=world.admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert_error(await fresh.get("/api/v1/conversations", headers=world.agent.headers), 401)
    again = await fresh.post(LOGIN, json={"email": "agent@example.com", "password": PASSWORD})
    assert_error(again, 401, "deactivated")


async def test_only_admins_deactivate_operators(fresh: httpx.AsyncClient, world: World) -> None:
    for persona in (world.agent, world.supervisor):
        response = await fresh.patch(
            f"/api/v1/operators/{world.outsider.id}", json={"active": False}, headers=persona.headers
        )
        assert_error(response, 403, "forbidden")
    assert (await fresh.get("/api/v1/auth/me", headers=world.outsider.headers)).status_code == 200


# ---------------------------------------------------------------- roles


async def test_agents_cannot_manage_channels_operators_profiles_or_events(
    fresh: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    attempts = {
        "/api/v1/channels": {"kind": "api", "name": "Sneaky", "settings": {"bot_enabled": False}},
        "/api/v1/operators": {"email": "new@example.com", "name": "New", "password": PASSWORD, "role": "admin"},
        "/api/v1/profiles": {"name": "Brand"},
        "/api/v1/events": {"name": "Party"},
    }
    for url, body in attempts.items():
        assert_error(await fresh.post(url, json=body, headers=world.agent.headers), 403, "forbidden")
    async with runtime.db.sessions() as session:
        for model, expected in ((Channel, 1), (Operator, 4), (Profile, 0), (Event, 0)):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == expected


def _protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every /api/v1 operation of the app, from its OpenAPI document (which lists the included routers)."""
    # The second login step authenticates by its signed challenge (tests/auth/test_two_factor.py).
    public = {
        "/api/v1/health",
        "/api/v1/auth/login",
        "/api/v1/auth/login/two-factor",
        "/api/v1/auth/login/two-factor/setup",
    }
    routes: list[tuple[str, str]] = []
    for template, operations in app.openapi()["paths"].items():
        if not template.startswith("/api/v1") or template in public:
            continue
        # Signed routes authenticate the caller differently (HMAC body or URL signature).
        if template.endswith(("/inbound", "/public")):
            continue
        # The website widget's visitor API authenticates visitors by their signed session token, never by an
        # operator's session (tests/channels/widget/test_visitor_api.py checks it route by route).
        if template.startswith("/api/v1/widget/"):
            continue
        path = re.sub(r"\{[^}]+\}", "1", template)
        routes.extend((method.upper(), path) for method in sorted(operations))
    return routes


async def test_every_api_route_needs_authentication(app: FastAPI, fresh: httpx.AsyncClient) -> None:
    routes = _protected_routes(app)
    gets = [path for method, path in routes if method == "GET"]
    assert "/api/v1/conversations" in gets
    assert "/api/v1/outbox" in gets
    assert len(gets) >= 15
    for method, path in routes:
        response = await fresh.request(method, path, json={} if method != "GET" else None)
        assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
        assert response.json()["error"]["code"] == "unauthorized"
        bogus = await fresh.request(method, path, headers={"Authorization": "Bearer hl_not-a-real-token"})
        assert bogus.status_code == 401, f"{method} {path} accepted a made-up token"


async def test_an_agent_gets_404_for_conversations_of_other_channels(
    client: httpx.AsyncClient, fresh: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    conversation_id = await conversation(client, world, runtime)
    base = f"/api/v1/conversations/{conversation_id}"
    headers = world.outsider.headers
    for response in (
        await fresh.get(base, headers=headers),
        await fresh.get(f"{base}/messages", headers=headers),
        await fresh.post(f"{base}/messages", json={"text": "sneaky"}, headers=headers),
        await fresh.post(f"{base}/takeover", headers=headers),
        await fresh.post(f"{base}/assign", json={"operator_id": world.outsider.id}, headers=headers),
        await fresh.post(f"{base}/resolve", headers=headers),
        await fresh.patch(base, json={"priority": "urgent"}, headers=headers),
    ):
        assert_error(response, 404, "not_found")
    assert (await fresh.get("/api/v1/conversations", headers=headers)).json()["items"] == []
    # Nothing the outsider tried took effect.
    detail = (await fresh.get(base, headers=world.admin.headers)).json()
    assert (detail["status"], detail["handler"], detail["assignee"], detail["priority"]) == (
        "open",
        "human",
        None,
        "none",
    )
    async with runtime.db.sessions() as session:
        texts = (await session.execute(select(Message.text).where(Message.conversation_id == conversation_id))).all()
    assert [t for (t,) in texts] == ["hello"]


async def test_supervisors_and_admins_see_every_channel(
    client: httpx.AsyncClient, fresh: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    conversation_id = await conversation(client, world, runtime)
    for persona in (world.supervisor, world.admin):
        listing = (await fresh.get("/api/v1/conversations", headers=persona.headers)).json()
        assert [c["id"] for c in listing["items"]] == [conversation_id]
        assert (await fresh.get(f"/api/v1/conversations/{conversation_id}", headers=persona.headers)).status_code == 200
        messages = await fresh.get(f"/api/v1/conversations/{conversation_id}/messages", headers=persona.headers)
        assert len(messages.json()["items"]) == 1


# ---------------------------------------------------------------- creating operators


async def test_admin_creates_an_operator_who_can_log_in(fresh: httpx.AsyncClient, world: World) -> None:
    body = {
        "email": "Nova@Example.com",
        "name": "Nova",
        "password": "a long enough password",
        "role": "agent",
        "channel_ids": [world.channel_id],
    }
    response = await fresh.post("/api/v1/operators", json=body, headers=world.admin.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["email"], created["role"], created["active"]) == ("nova@example.com", "agent", True)
    assert created["channel_ids"] == [world.channel_id]
    login = await fresh.post(LOGIN, json={"email": "nova@example.com", "password": "a long enough password"})
    assert login.status_code == 200
    duplicate = await fresh.post("/api/v1/operators", json=body, headers=world.admin.headers)
    assert_error(duplicate, 409, "duplicate_email")
    bad_channel = await fresh.post(
        "/api/v1/operators",
        json={**body, "email": "other@example.com", "channel_ids": [world.channel_id + 1000]},
        headers=world.admin.headers,
    )
    assert_error(bad_channel, 422)


def test_cli_creates_an_operator(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    env = {
        "HELPLINE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HELPLINE_DATA_DIR": str(tmp_path / "data"),
        "HELPLINE_SECRET_KEY": SECRET,
    }
    runner = CliRunner()
    args = ["operator", "create", "--email", "Cli@Example.com", "--password", PASSWORD, "--role", "supervisor"]
    result = runner.invoke(main, [*args, "--name", "Cli Person"], env=env)
    assert result.exit_code == 0, result.output
    assert "created" in result.output

    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT email, name, role, active, password_hash FROM operators").fetchall()
    assert len(rows) == 1
    email, name, role, active, password_hash = rows[0]
    assert (email, name, role, bool(active)) == ("cli@example.com", "Cli Person", "supervisor", True)
    assert verify_password(password_hash, PASSWORD)
    assert not verify_password(password_hash, "something else")

    again = runner.invoke(main, [*args, "--name", "Twice"], env=env)
    assert again.exit_code != 0
    assert "already exists" in again.output
    short = runner.invoke(main, ["operator", "create", "--email", "x@example.com", "--password", "short"], env=env)
    assert short.exit_code != 0
    assert "password" in short.output
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT count(*) FROM operators").fetchone() == (1,)
