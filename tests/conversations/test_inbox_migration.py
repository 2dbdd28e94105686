"""Migration 0004_inbox on SQLite and PostgreSQL: existing conversations a person owes an answer get their
waiting_since from the customer's last message; the others stay null; it downgrades and upgrades again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command

from helpline.platform.db import Database, UTCDateTime
from helpline.platform.migrate import alembic_config, upgrade
from tests.conftest import POSTGRES_ADMIN_URL, _unavailable

CASES = {
    # name: (handler, status, last_message_author, waiting afterwards)
    "owed": ("human", "open", "contact", True),
    "answered": ("human", "open", "operator", False),
    "bot": ("bot", "pending", "contact", False),
    "resolved": ("human", "resolved", "contact", False),
}
INBOUND = datetime(2026, 11, 1, 10, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"helpline_migrate_{uuid.uuid4().hex[:8]}"

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
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# The tables as revision 0003 knows them (not the models, which already have the new columns).
STAMP = UTCDateTime()
CHANNELS = sa.table(
    "channels",
    *(sa.column(c) for c in ("id", "kind", "name", "status")),
    sa.column("settings", sa.JSON()),
    sa.column("created_at", STAMP),
    sa.column("updated_at", STAMP),
)
CONTACTS = sa.table(
    "contacts",
    sa.column("id"),
    sa.column("name"),
    sa.column("attributes", sa.JSON()),
    sa.column("created_at", STAMP),
    sa.column("updated_at", STAMP),
)
CONVERSATIONS = sa.table(
    "conversations",
    *(sa.column(c) for c in ("id", "channel_id", "contact_id", "status", "handler", "priority", "unread_count")),
    sa.column("last_message_author"),
    sa.column("tags", sa.JSON()),
    sa.column("bot_state", sa.JSON()),
    sa.column("last_inbound_at", STAMP),
    sa.column("last_activity_at", STAMP),
    sa.column("created_at", STAMP),
    sa.column("updated_at", STAMP),
)
WAITING = sa.table("conversations", sa.column("id"), sa.column("waiting_since", STAMP))


async def _seed(url: str) -> None:
    database = Database(url)
    stamps = {"created_at": INBOUND, "updated_at": INBOUND}
    try:
        async with database.transaction() as session:
            await session.execute(
                sa.insert(CHANNELS).values(id=1, kind="api", name="Line", status="active", settings={}, **stamps)
            )
            await session.execute(sa.insert(CONTACTS).values(id=1, name="Ana", attributes={}, **stamps))
            for index, (handler, status, author, _) in enumerate(CASES.values(), start=1):
                await session.execute(
                    sa.insert(CONVERSATIONS).values(
                        id=index,
                        channel_id=1,
                        contact_id=1,
                        status=status,
                        handler=handler,
                        priority="none",
                        unread_count=0,
                        last_message_author=author,
                        tags=[],
                        bot_state={},
                        last_inbound_at=INBOUND,
                        last_activity_at=INBOUND,
                        **stamps,
                    )
                )
    finally:
        await database.dispose()


async def _waiting(url: str) -> dict[int, datetime | None]:
    database = Database(url)
    try:
        async with database.reads() as session:
            rows = await session.execute(sa.select(WAITING.c.id, WAITING.c.waiting_since).order_by(WAITING.c.id))
            return {int(row_id): value for row_id, value in rows.all()}
    finally:
        await database.dispose()


def test_backfill_then_downgrade_and_upgrade_again(empty_url: str) -> None:
    upgrade(empty_url, "0003")
    asyncio.run(_seed(empty_url))
    upgrade(empty_url, "0004_inbox")
    expected = {index: (INBOUND if owed else None) for index, (*_, owed) in enumerate(CASES.values(), start=1)}
    assert asyncio.run(_waiting(empty_url)) == expected
    command.downgrade(alembic_config(empty_url), "0003")
    upgrade(empty_url)
    assert asyncio.run(_waiting(empty_url)) == expected
