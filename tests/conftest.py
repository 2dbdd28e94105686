"""Shared fixtures: a database per backend (SQLite always, PostgreSQL when reachable), the app, personas.

Every test that takes `db_url` runs twice: on SQLite and on the real PostgreSQL. Without a reachable
server the PostgreSQL run is skipped with the reason, unless HELPLINE_TEST_REQUIRE_SERVICES=1 (CI),
which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import text

from helpline.app import create_app
from helpline.auth import passwords
from helpline.auth.actions import create_operator
from helpline.auth.models import Role
from helpline.auth.schemas import OperatorCreate
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.jobs import build_worker
from helpline.platform.db import Database
from helpline.platform.migrate import upgrade
from helpline.runtime import Runtime
from helpline.settings import Settings
from helpline.tables import metadata

POSTGRES_ADMIN_URL = os.environ.get("HELPLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("HELPLINE_TEST_REQUIRE_SERVICES") == "1"
SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery"


def _unavailable(what: str, error: BaseException) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and HELPLINE_TEST_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """argon2 at production cost is ~0.1 s a hash; the suite hashes thousands. Hashes made here still
    verify with the real hasher (argon2 stores its parameters in the hash); production code is unchanged."""
    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = original


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test session, migrated once, dropped at the end."""
    name = f"helpline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable("PostgreSQL", exc)
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def truncate_all(url: str) -> None:
    database = Database(url)
    try:
        async with database.transaction() as session:
            tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await database.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "helpline.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(truncate_all(url))
    yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    async def ping() -> None:
        client = aioredis.from_url(REDIS_URL)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(ping())
    except Exception as exc:
        _unavailable("Redis", exc)
    return REDIS_URL


# ---------------------------------------------------------------- app and runtime


def make_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "database_url": db_url,
        "secret_key": SECRET,
        "base_url": "http://testserver",
        "run_workers": False,
        "allow_private_targets": True,
        "outbox_backoff_base_seconds": 0.01,
        "outbox_backoff_max_seconds": 0.05,
        "outbox_max_attempts": 3,
        "redis_prefix": f"helpline-test-{uuid.uuid4().hex[:8]}",
    }
    values.update(overrides)
    (tmp_path / "var").mkdir(exist_ok=True)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, migrate=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    rt: Runtime = app.state.runtime
    return rt


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def drain(runtime: Runtime, *, rounds: int = 20) -> None:
    """Run the outbox worker until nothing is due (deterministic stand-in for the background loop)."""
    worker = build_worker(runtime)
    for _ in range(rounds):
        if not await worker.run_once():
            return


# ---------------------------------------------------------------- personas


@dataclass
class Persona:
    id: int
    email: str
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Named people and one API channel: `agent` is a member of it, `outsider` is not."""

    admin: Persona
    supervisor: Persona
    agent: Persona
    outsider: Persona
    channel_id: int
    channel_secret: str


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def make_world(runtime: Runtime, client: httpx.AsyncClient, *, callback_url: str | None = None) -> World:
    people: dict[str, tuple[int, str, Role]] = {}
    async with runtime.db.transaction() as session:
        for name, role in (
            ("admin", Role.admin),
            ("supervisor", Role.supervisor),
            ("agent", Role.agent),
            ("outsider", Role.agent),
        ):
            email = f"{name}@example.com"
            operator = await create_operator(
                session, OperatorCreate(email=email, name=name.title(), password=PASSWORD, role=role), actor_id=None
            )
            people[name] = (operator.id, email, role)
        settings: dict[str, Any] = {"bot_enabled": False}
        if callback_url:
            settings["callback_url"] = callback_url
        channel, reveal = await create_channel(
            session,
            ChannelCreate(kind="api", name="Test API", settings=settings, member_ids=[people["agent"][0]]),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    personas = {
        name: Persona(id=oid, email=email, role=role, token=await login(client, email))
        for name, (oid, email, role) in people.items()
    }
    # Logging in set session cookies on the shared client; tests authenticate explicitly with a persona.
    client.cookies.clear()
    return World(**personas, channel_id=channel.id, channel_secret=reveal["secret"])


@pytest.fixture
async def world(runtime: Runtime, client: httpx.AsyncClient) -> World:
    return await make_world(runtime, client)
