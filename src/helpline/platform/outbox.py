"""The transactional outbox: rows written with the change that caused them, claimed and settled by workers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Index, String, Table, Text, delete, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.clock import utcnow
from helpline.platform.db import Base, BigId

PENDING = "pending"
DEAD = "dead"


class OutboxRow(Base):
    __tablename__ = "outbox"
    # AUTOINCREMENT: SQLite must never reuse an id, since the id names the event (webhook deliveries,
    # realtime event keys); see migration 0006_outbox_ids.
    __table_args__ = (Index("ix_outbox_claim", "status", "available_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set only on rows that must exist once (a raw inbound webhook body: sha256 of channel + body); NULLs
    # never collide, so every other row leaves it empty.
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)


# Listeners that want to know a row was committed (the in-process worker wakes up at once).
_commit_listeners: list[Any] = []


def on_enqueue(listener: Any) -> None:
    _commit_listeners.append(listener)


def remove_listener(listener: Any) -> None:
    if listener in _commit_listeners:
        _commit_listeners.remove(listener)


BUNDLE_KEY = "outbox_bundle"
MAX_BUNDLE_PARTS = 10_000


def enqueue(session: AsyncSession, topic: str, payload: dict[str, Any], *, delay_seconds: float = 0) -> None:
    """Add an outbox row to the caller's transaction; it becomes visible to workers only when that commits.

    Inside `bundling(session, topics)` a due row of one of those topics is collected instead, and
    `flush_bundles` writes one row per topic for the whole batch (`{"bundle": [payload, …]}`)."""
    bundles: dict[str, list[dict[str, Any]]] | None = session.info.get(BUNDLE_KEY)
    if bundles is not None and topic in bundles and not delay_seconds:
        bundles[topic].append(payload)
        return
    row = OutboxRow(topic=topic, payload=payload)
    if delay_seconds:
        row.available_at = utcnow() + timedelta(seconds=delay_seconds)
    session.add(row)
    if not session.info.get("outbox_wake_hooked"):
        session.info["outbox_wake_hooked"] = True
        event.listen(session.sync_session, "after_commit", _wake_listeners)


def bundling(session: AsyncSession, topics: tuple[str, ...]) -> None:
    """From now on, collect this session's rows of `topics` (a batch writes one row per topic, not one per
    message); `flush_bundles` must run before the commit, and writes the rows in the order of `topics`."""
    session.info[BUNDLE_KEY] = {topic: [] for topic in topics}


def flush_bundles(session: AsyncSession) -> int:
    """Write the collected rows: one per topic that got any, payload `{"bundle": [payload, …]}` in the order
    they were queued; the worker runs the topic's handler once per part (`Job.part`). Returns rows written."""
    bundles: dict[str, list[dict[str, Any]]] = session.info.pop(BUNDLE_KEY, {})
    written = 0
    for topic, payloads in bundles.items():
        # A part's key is derived from (row id, part < MAX_BUNDLE_PARTS) (worker.Job.source_id).
        for start in range(0, len(payloads), MAX_BUNDLE_PARTS):
            enqueue(session, topic, {"bundle": payloads[start : start + MAX_BUNDLE_PARTS]})
            written += 1
    return written


def wake_now() -> None:
    """Tell this process's workers a row was committed by a statement outside the ORM (`insert_once`)."""
    _wake_listeners(None)


async def insert_once(
    session: AsyncSession,
    topic: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str,
    leased_by: str | None = None,
    lease_seconds: float = 0,
) -> int | None:
    """One INSERT (SQLAlchemy Core, no unit of work) of a row that may exist only once; returns its id, or
    None when a row with `dedupe_key` is already waiting (ON CONFLICT DO NOTHING on both databases).

    `leased_by`: the row starts leased to the caller for `lease_seconds`, so no worker claims it while the
    caller processes it itself; if the caller dies, the lease runs out and a worker does."""
    now = utcnow()
    values: dict[str, Any] = {
        "topic": topic,
        "payload": payload,
        "status": PENDING,
        "attempts": 1 if leased_by else 0,
        "created_at": now,
        "available_at": now,
        "dedupe_key": dedupe_key,
    }
    if leased_by:
        values["locked_by"] = leased_by
        values["locked_until"] = now + timedelta(seconds=lease_seconds)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
    # The table, not the mapped class: a plain Core INSERT, without the ORM's bulk-insert machinery.
    table = cast(Table, OutboxRow.__table__)
    statement = (
        insert_fn(table).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    )
    row_id: int | None = (await session.execute(statement)).scalar_one_or_none()
    return row_id


def _wake_listeners(_session: Any) -> None:
    # Only a signal: workers still read the committed rows from the database.
    for listener in list(_commit_listeners):
        listener()


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int


async def claim(
    session: AsyncSession, *, worker_id: str, limit: int, lease_seconds: float, only_ids: list[int] | None = None
) -> list[ClaimedRow]:
    """Lease up to `limit` due rows (of `only_ids`, when given). SKIP LOCKED lets many workers claim disjoint
    rows on PostgreSQL; SQLite serialises writers, which gives the same guarantee. An expired lease (a dead
    worker) is re-claimed."""
    now = utcnow()
    conditions = [
        OutboxRow.status == PENDING,
        OutboxRow.available_at <= now,
        (OutboxRow.locked_until.is_(None)) | (OutboxRow.locked_until < now),
    ]
    if only_ids is not None:
        conditions.append(OutboxRow.id.in_(only_ids))
    due = select(OutboxRow.id).where(*conditions).order_by(OutboxRow.id).limit(limit).with_for_update(skip_locked=True)
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(due.scalar_subquery()))
        .values(
            locked_until=now + timedelta(seconds=lease_seconds),
            locked_by=worker_id,
            attempts=OutboxRow.attempts + 1,
        )
        .returning(OutboxRow.id, OutboxRow.topic, OutboxRow.payload, OutboxRow.attempts)
        .execution_options(synchronize_session=False)
    )
    rows = [ClaimedRow(id=r.id, topic=r.topic, payload=r.payload, attempts=r.attempts) for r in result]
    rows.sort(key=lambda r: r.id)
    return rows


async def extend_leases(session: AsyncSession, ids: list[int], *, worker_id: str, lease_seconds: float) -> set[int]:
    """Push the lease of our rows `ids` forward; returns those still ours (a row re-claimed by another worker
    after our lease lapsed is not)."""
    if not ids:
        return set()
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids), OutboxRow.locked_by == worker_id, OutboxRow.status == PENDING)
        .values(locked_until=utcnow() + timedelta(seconds=lease_seconds))
        .returning(OutboxRow.id)
        .execution_options(synchronize_session=False)
    )
    return {row_id for (row_id,) in result}


async def complete(session: AsyncSession, ids: list[int], *, worker_id: str) -> None:
    """Done rows are deleted; only our own lease may settle a row (a re-claimed row belongs to another)."""
    if ids:
        await session.execute(delete(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.locked_by == worker_id))


def backoff_seconds(attempts: int, *, base: float, maximum: float) -> float:
    """Exponential backoff with full jitter on the upper half, so retries of many rows spread out."""
    ceiling = min(maximum, base * (2 ** max(0, attempts - 1)))
    return float(ceiling / 2 + random.random() * ceiling / 2)


async def fail(
    session: AsyncSession,
    row: ClaimedRow,
    error: str,
    *,
    worker_id: str,
    max_attempts: int,
    base: float,
    maximum: float,
) -> bool:
    """Schedule a retry, or mark the row dead after max_attempts. Returns True when it died."""
    dead = row.attempts >= max_attempts
    values: dict[str, Any] = {"last_error": error[:2000], "locked_until": None, "locked_by": None}
    if dead:
        values["status"] = DEAD
    else:
        values["available_at"] = utcnow() + timedelta(seconds=backoff_seconds(row.attempts, base=base, maximum=maximum))
    await session.execute(
        update(OutboxRow).where(OutboxRow.id == row.id, OutboxRow.locked_by == worker_id).values(**values)
    )
    return dead


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    dead: int
    oldest_pending_age_seconds: float


async def stats(session: AsyncSession) -> OutboxStats:
    pending_q = select(func.count(), func.min(OutboxRow.created_at)).where(OutboxRow.status == PENDING)
    count, oldest = (await session.execute(pending_q)).one()
    dead = (await session.execute(select(func.count()).where(OutboxRow.status == DEAD))).scalar_one()
    age = (utcnow() - oldest).total_seconds() if oldest else 0.0
    return OutboxStats(pending=int(count), dead=int(dead), oldest_pending_age_seconds=max(0.0, age))


async def retry_dead(session: AsyncSession, row_id: int) -> bool:
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.status == DEAD)
        .values(status=PENDING, attempts=0, available_at=utcnow(), last_error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
