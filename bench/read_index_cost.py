"""`python -m bench.read_index_cost --database NAME`: what the read indexes cost the ingest path.

Inside one transaction that is rolled back (the database is left as it was), alternating rounds of:
- N single-row `INSERT INTO messages` (prepared, one round trip each: the ingest path's shape) with every
  index of the table (plus the merge of the trigram index's pending list, which GIN defers), then the same
  with the trigram index `ix_messages_text_trgm` dropped;
- N single-row `UPDATE conversations SET last_activity_at, last_message_preview, ...` (what every message
  does to its conversation), with the table's indexes as they are.
- N single-row `INSERT INTO contacts` with and without `ix_contacts_name_trgm`.
Prints the median ms per row of each, and the ratio with / without the trigram index. Run it on a database
from `bench.reads_data --keep` migrated to 0012 and on one at 0011 to compare the conversation updates.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import timedelta

import asyncpg

from bench.reads_data import ADMIN_URL, message_text
from helpline.platform.clock import utcnow

INSERT = (
    "INSERT INTO messages (conversation_id, channel_id, direction, author_kind, text, content_type, content, "
    "provider_message_id, delivery_state, provider_timestamp, occurred_at, created_at, updated_at) "
    "VALUES ($1, $2, 'inbound', 'contact', $3, 'text', '{}', $4, 'received', $5, $5, $5, $5)"
)
CONTACT = "INSERT INTO contacts (name, attributes, created_at, updated_at) VALUES ($1, '{}', $2, $2)"
UPDATE = (
    "UPDATE conversations SET last_activity_at = $2, last_message_at = $2, last_inbound_at = $2, "
    "last_message_preview = $3, unread_count = unread_count + 1, updated_at = $2 WHERE id = $1"
)


async def _inserts(conn: asyncpg.Connection, rng: random.Random, targets: list[asyncpg.Record], n: int) -> float:
    statement = await conn.prepare(INSERT)
    now = utcnow()
    started = time.perf_counter()
    for _ in range(n):
        target = rng.choice(targets)
        await statement.fetch(target["id"], target["channel_id"], message_text(rng), f"cost-{rng.random()}", now)
        now += timedelta(milliseconds=1)
    return (time.perf_counter() - started) * 1000 / n


async def _contacts(conn: asyncpg.Connection, rng: random.Random, n: int, index: str | None) -> float:
    statement = await conn.prepare(CONTACT)
    now = utcnow()
    started = time.perf_counter()
    for i in range(n):
        await statement.fetch(f"Contact {rng.random():.6f} {i}", now)
    if index:
        await conn.execute(f"SELECT gin_clean_pending_list('{index}')")
    return (time.perf_counter() - started) * 1000 / n


async def _updates(conn: asyncpg.Connection, rng: random.Random, targets: list[asyncpg.Record], n: int) -> float:
    statement = await conn.prepare(UPDATE)
    now = utcnow()
    started = time.perf_counter()
    for _ in range(n):
        await statement.fetch(rng.choice(targets)["id"], now, message_text(rng)[:300])
        now += timedelta(milliseconds=1)
    return (time.perf_counter() - started) * 1000 / n


async def main(args: argparse.Namespace) -> None:
    url = f"{args.admin_url.rsplit('/', 1)[0]}/{args.database}"
    conn = await asyncpg.connect(url)
    rng = random.Random(args.seed)
    try:
        targets = await conn.fetch("SELECT id, channel_id FROM conversations ORDER BY random() LIMIT 5000")
        has_trigram = await conn.fetchval("SELECT to_regclass('ix_messages_text_trgm') IS NOT NULL")
        names = await conn.fetchval("SELECT to_regclass('ix_contacts_name_trgm') IS NOT NULL")
        contacts_with: list[float] = []
        contacts_without: list[float] = []
        indexes = await conn.fetchval("SELECT count(*) FROM pg_indexes WHERE tablename = 'conversations'")
        with_index: list[float] = []
        without: list[float] = []
        updates: list[float] = []
        for _ in range(args.rounds):
            tx = conn.transaction()
            await tx.start()
            try:
                per_row = await _inserts(conn, rng, targets, args.rows)
                if has_trigram:
                    # GIN defers work to a pending list (fastupdate); its merge is part of the cost.
                    started = time.perf_counter()
                    await conn.execute("SELECT gin_clean_pending_list('ix_messages_text_trgm')")
                    per_row += (time.perf_counter() - started) * 1000 / args.rows
                with_index.append(per_row)
                updates.append(await _updates(conn, rng, targets, args.rows))
                contacts_with.append(await _contacts(conn, rng, args.rows, "ix_contacts_name_trgm" if names else None))
                if names:
                    await conn.execute("DROP INDEX ix_contacts_name_trgm")
                    contacts_without.append(await _contacts(conn, rng, args.rows, None))
                if has_trigram:
                    await conn.execute("DROP INDEX ix_messages_text_trgm")
                    without.append(await _inserts(conn, rng, targets, args.rows))
            finally:
                await tx.rollback()
        print(f"{args.rounds} rounds of {args.rows} rows, one statement each (ms per row, median of rounds)")
        print(f"INSERT messages, every index:            {statistics.median(with_index):.3f}")
        if without:
            print(f"INSERT messages, without the trigram:    {statistics.median(without):.3f}")
            ratio = statistics.median(with_index) / statistics.median(without)
            print(f"ratio:                                   {ratio:.2f}")
        print(f"UPDATE conversations ({indexes} indexes):    {statistics.median(updates):.3f}")
        print(f"INSERT contacts, every index:            {statistics.median(contacts_with):.3f}")
        if contacts_without:
            print(f"INSERT contacts, without the trigram:    {statistics.median(contacts_without):.3f}")
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.read_index_cost", description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(main(parser.parse_args()))
