"""Migration 0013_contact_names on SQLite and PostgreSQL: a name that is only the contact's opaque provider id is
cleared; real names, phone numbers and e-mail addresses stay; it downgrades (restoring the id) and upgrades again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from helpline.platform.db import Database, UTCDateTime
from helpline.platform.migrate import alembic_config, upgrade
from tests.conversations.test_inbox_migration import empty_url  # noqa: F401 (the fixture: SQLite and PostgreSQL)

STAMP = UTCDateTime()
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
CONTACTS = sa.table(
    "contacts",
    *(sa.column(c) for c in ("id", "name", "email", "phone")),
    sa.column("attributes", sa.JSON()),
    sa.column("created_at", STAMP),
    sa.column("updated_at", STAMP),
)
IDENTITIES = sa.table(
    "contact_identities",
    *(sa.column(c) for c in ("id", "contact_id", "kind", "provider_id")),
    sa.column("created_at", STAMP),
)
# id: (name, phone, email, identity kind, provider id, name afterwards)
CASES = {
    1: ("8774268467590210", None, None, "messenger", "8774268467590210", None),
    2: ("v-4f2a9c", None, None, "widget", "v-4f2a9c", None),
    3: ("api-ext-77", None, None, "api:3", "api-ext-77", None),
    4: ("Ana Souza", None, None, "messenger", "1234567890", "Ana Souza"),
    5: ("5511912345678", "5511912345678", None, "whatsapp", "5511912345678", "5511912345678"),
    6: ("ana@example.com", None, "ana@example.com", "email", "ana@example.com", "ana@example.com"),
}


async def _seed(url: str) -> None:
    database = Database(url)
    try:
        async with database.transaction() as session:
            for cid, (name, phone, email, kind, provider_id, _) in CASES.items():
                await session.execute(
                    sa.insert(CONTACTS).values(
                        id=cid, name=name, phone=phone, email=email, attributes={}, created_at=NOW, updated_at=NOW
                    )
                )
                await session.execute(
                    sa.insert(IDENTITIES).values(
                        id=cid, contact_id=cid, kind=kind, provider_id=provider_id, created_at=NOW
                    )
                )
    finally:
        await database.dispose()


async def _names(url: str) -> dict[int, str | None]:
    database = Database(url)
    try:
        async with database.reads() as session:
            rows = await session.execute(sa.select(CONTACTS.c.id, CONTACTS.c.name).order_by(CONTACTS.c.id))
            return {int(cid): name for cid, name in rows.all()}
    finally:
        await database.dispose()


def test_opaque_id_names_are_cleared_then_restored_on_downgrade(empty_url: str) -> None:  # noqa: F811
    upgrade(empty_url, "0012_read_indexes")
    asyncio.run(_seed(empty_url))
    upgrade(empty_url, "0013_contact_names")
    assert asyncio.run(_names(empty_url)) == {cid: case[-1] for cid, case in CASES.items()}
    command.downgrade(alembic_config(empty_url), "0012_read_indexes")
    assert asyncio.run(_names(empty_url)) == {cid: case[0] for cid, case in CASES.items()}
    upgrade(empty_url)
    assert asyncio.run(_names(empty_url)) == {cid: case[-1] for cid, case in CASES.items()}
