"""Copy a `bench.reads_data` PostgreSQL database into a new SQLite file, so `bench.reads --sqlite` can measure
the embedded default on the same rows (migrated with the project's `upgrade`, rows through SQLAlchemy Core
so the SQLite column types store them as the application would)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import JSON, insert

import helpline.auth.models
import helpline.channels.models
import helpline.contacts.models
import helpline.conversations.models
import helpline.profiles.models  # noqa: F401 - the tables copied must be in the metadata
from helpline.platform.db import Base, Database
from helpline.platform.migrate import upgrade

TABLES = [
    "profiles",
    "events",
    "operators",
    "channels",
    "channel_members",
    "contacts",
    "contact_identities",
    "conversations",
    "messages",
]


async def copy_to_sqlite(pg_url: str, path: str) -> str:
    """Create the SQLite database at `path` (must not exist), copy TABLES from `pg_url` (asyncpg DSN) into it
    and ANALYZE; returns its SQLAlchemy URL."""
    if await asyncio.to_thread(Path(path).exists):
        raise SystemExit(f"{path} exists; give a new path")
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    source = await asyncpg.connect(pg_url)
    db = Database(url)
    try:
        for name in TABLES:
            table = Base.metadata.tables[name]
            json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
            rows = await source.fetch(f"SELECT * FROM {name}")  # noqa: S608 - fixed names
            batch: list[dict[str, Any]] = []
            for row in rows:
                record = dict(row)
                for column in json_columns & record.keys():
                    if isinstance(record[column], str):
                        record[column] = json.loads(record[column])
                batch.append({k: v for k, v in record.items() if k in table.columns})
                if len(batch) == 20_000:
                    async with db.transaction() as session:
                        await session.execute(insert(table), batch)
                    batch = []
            if batch:
                async with db.transaction() as session:
                    await session.execute(insert(table), batch)
        async with db.transaction() as session:
            await (await session.connection()).exec_driver_sql("ANALYZE")
    finally:
        await source.close()
        await db.dispose()
    return url
