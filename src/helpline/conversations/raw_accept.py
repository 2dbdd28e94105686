"""The accept path's one statement: a verified body into the inbound log, only if its channel is unchanged.

`raw_inbound.accept_raw` stores a body for a channel the caller has just read. The signed inbound routes read
their channel from a per-process cache (`channels/signing_cache.py`) instead, so the INSERT carries the
check: `INSERT … SELECT … WHERE EXISTS (the channel, with the cached updated_at, not disabled) ON CONFLICT
(dedupe_key) DO NOTHING RETURNING id` — one round trip that cannot store a body verified with a secret that
has been rotated, or for a channel disabled or deleted, since the cache was filled. On PostgreSQL it goes
through asyncpg directly as a prepared statement, AUTOCOMMIT; on SQLite through SQLAlchemy Core, in one
write transaction.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import asyncpg
from sqlalchemy import JSON, String, Table, exists, literal, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from helpline.channels.models import Channel
from helpline.conversations.raw_inbound import RAW_TOPIC, dedupe_key, raw_payload
from helpline.platform import outbox
from helpline.platform.clock import utcnow
from helpline.platform.db import UTCDateTime
from helpline.runtime import Runtime

# asyncpg's errors for "the server cannot be reached or refuses work right now" (SQLSTATE classes 08, 53, 57).
_DATABASE_DOWN = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.OperatorInterventionError,
)

# One round trip that also says whether the channel was current, so a duplicate needs no second look.
_POSTGRES_ACCEPT = """
WITH current_channel AS (
    SELECT 1 FROM channels WHERE id = $5::bigint AND updated_at = $6::timestamptz AND status <> 'disabled'
), stored AS (
    INSERT INTO outbox (topic, payload, status, attempts, created_at, available_at, dedupe_key)
    SELECT $1::varchar, $2::json, $7::varchar, 0, $3::timestamptz, $3::timestamptz, $4::varchar
    WHERE EXISTS (SELECT 1 FROM current_channel)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
)
SELECT (SELECT id FROM stored) AS id, EXISTS (SELECT 1 FROM current_channel) AS current
"""
# The row a byte-identical body is waiting in (read after the INSERT, in a fresh snapshot: the statement
# above cannot see a row that a concurrent request committed while it ran).
_POSTGRES_WAITING = "SELECT id FROM outbox WHERE dedupe_key = $1::varchar"
# Rounds of INSERT + look-up: the waiting row may be ingested and deleted between the two, then it is stored anew.
_ROUNDS = 3


@dataclass(frozen=True)
class Accepted:
    """What `accept_if_current` did: `row_id` is the log row holding the body (None only when the channel was
    not current); `duplicate`: the same body was already waiting there, nothing new was stored."""

    row_id: int | None
    current: bool
    duplicate: bool = False


async def accept_if_current(runtime: Runtime, channel_id: int, version: datetime, body: bytes) -> Accepted:
    """Store `body` for the channel as an `ingest.raw` row if the channel still has `updated_at == version`
    and is not disabled; wakes this process's workers. Returns Accepted(id, True) stored; Accepted(id of the
    waiting row, True, duplicate=True) the same body is already waiting (dedupe on sha256(channel, body));
    Accepted(None, False) nothing stored, the channel changed since `version` was read (or is disabled or gone).

    Raises ConnectionError when PostgreSQL cannot be reached (the app answers 503 + Retry-After)."""
    for _ in range(_ROUNDS):
        row_id, current = await _insert(runtime, channel_id, version, body)
        if row_id is not None:
            outbox.wake_now()
            return Accepted(row_id, True)
        if not current:
            return Accepted(None, False)
        waiting = await _waiting_row(runtime, dedupe_key(channel_id, body))
        if waiting is not None:
            return Accepted(waiting, True, duplicate=True)
    raise ConnectionError("the inbound log kept changing while the body was accepted")


async def _waiting_row(runtime: Runtime, key: str) -> int | None:
    if runtime.db.is_postgres:
        try:
            pool = await runtime.db.driver_pool()
            found: int | None = await pool.fetchval(_POSTGRES_WAITING, key)
        except _DATABASE_DOWN as exc:
            raise ConnectionError(f"database unavailable: {type(exc).__name__}") from exc
        return found
    async with runtime.db.statements(readonly=True) as session:
        row: int | None = (
            await session.execute(select(outbox.OutboxRow.id).where(outbox.OutboxRow.dedupe_key == key))
        ).scalar_one_or_none()
        return row


async def _insert(runtime: Runtime, channel_id: int, version: datetime, body: bytes) -> tuple[int | None, bool]:
    payload = raw_payload(channel_id, body)
    key = dedupe_key(channel_id, body)
    now = utcnow()
    row_id: int | None
    current: bool
    if runtime.db.is_postgres:
        runtime.db.driver_statements += 1
        try:
            pool = await runtime.db.driver_pool()
            # Plain json.dumps, not the columns' cleaning serializer: the body was decoded as strict UTF-8
            # (no lone surrogates) and parsed as JSON (no raw NUL), so there is nothing to clean.
            row = await pool.fetchrow(
                _POSTGRES_ACCEPT, RAW_TOPIC, json.dumps(payload), now, key, channel_id, version, outbox.PENDING
            )
        except _DATABASE_DOWN as exc:
            # The app answers ConnectionError with 503 + Retry-After, as for SQLAlchemy's "database down".
            raise ConnectionError(f"database unavailable: {type(exc).__name__}") from exc
        row_id, current = row["id"], row["current"]
    else:
        table = cast(Table, outbox.OutboxRow.__table__)
        unchanged = exists().where(
            Channel.id == channel_id, Channel.updated_at == version, Channel.status != "disabled"
        )
        source = select(
            literal(RAW_TOPIC, String()),
            literal(payload, JSON()),
            literal(outbox.PENDING, String()),
            literal(0),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
            literal(key, String()),
        ).where(unchanged)
        columns = ["topic", "payload", "status", "attempts", "created_at", "available_at", "dedupe_key"]
        statement = (
            sqlite_insert(table)
            .from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
        async with runtime.db.transaction() as session:
            row_id = (await session.execute(statement)).scalar_one_or_none()
            current = row_id is not None or bool((await session.execute(select(unchanged))).scalar())
    return row_id, current
