"""PostgreSQL reaches every inbox list filter through an index, and a cursor starts the index scan.

A generated inbox (bench/reads_data.py, fixed seed, under 30,000 rows per table so ANALYZE reads every row
and the statistics, hence the plans, are the same on every run) and the plans of the statements the API runs
(`EXPLAIN`, no timing). A change that makes a filter read the whole table, or a deep page filter every row
before its cursor, fails here instead of in production at a million messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from bench.reads import Ids, list_cases, pick_ids
from bench.reads_data import create, drop
from sqlalchemy import event

from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.conversations.queries import ConversationFilters, Sort, list_conversations
from helpline.platform.db import Database
from tests.conftest import POSTGRES_ADMIN_URL, _unavailable

pytestmark = pytest.mark.postgres

SIZES = {"channels": 20, "contacts": 10_000, "conversations": 20_000, "messages": 29_000}
# The filters whose own index serves the default sort (0012_read_indexes).
OWN_INDEX = {
    "status=open": "ix_conversations_status_activity",
    "status=snoozed": "ix_conversations_status_activity",
    "priority=urgent": "ix_conversations_priority_activity",
    "assignee=me": "ix_conversations_assignee_activity",
    "assignee=<id>": "ix_conversations_assignee_activity",
    "channel_id=<busiest>": "ix_conversations_channel_activity",
    "event_id": "ix_conversations_event_activity",
    "contact_id": "ix_conversations_contact_activity",
}


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[str, Ids]]:
    try:
        generated = asyncio.run(create(seed=7, admin_url=POSTGRES_ADMIN_URL, **SIZES))
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable("PostgreSQL", exc)
    try:
        ids = asyncio.run(pick_ids(generated.url, generated.me, generated.agent, generated.agent_channels))
        yield generated.url.replace("postgresql://", "postgresql+asyncpg://"), ids
    finally:
        asyncio.run(drop(generated.name, POSTGRES_ADMIN_URL))


@pytest.fixture
async def database(inbox: tuple[str, Ids]) -> AsyncIterator[Database]:
    db = Database(inbox[0], pool_size=1, max_overflow=0)
    yield db
    await db.dispose()


async def _plans(
    db: Database, principal: Principal, filters: ConversationFilters, sort: Sort, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The plan nodes of every statement one page runs (EXPLAIN of the captured SQL), and its next cursor."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.reads() as session:
            page = await list_conversations(session, principal, filters, cursor=cursor, limit=50, sort=sort)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    nodes: list[dict[str, Any]] = []
    async with db.reads() as session:
        conn = await session.connection()
        for statement, parameters in statements:
            raw = (await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)).scalar_one()
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            stack = [plan]
            while stack:
                node = stack.pop()
                nodes.append(node)
                stack.extend(node.get("Plans", []))
    return nodes, page.next_cursor


def _principal(ids: Ids, who: str) -> Principal:
    if who == "agent":
        return Principal(operator_id=ids.agent, role=Role.agent, channel_ids=ids.agent_channels)
    return Principal(operator_id=ids.me, role=Role.admin, channel_ids=frozenset())


def _conversation_scans(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in nodes if n.get("Relation Name") == "conversations"]


async def test_every_filter_reaches_conversations_through_an_index(inbox: tuple[str, Ids], database: Database) -> None:
    _, ids = inbox
    for label, filters, sort, who in list_cases(ids):
        principal = _principal(ids, who)
        first, cursor = await _plans(database, principal, filters, sort, None)
        pages = [("first page", first)]
        if cursor:
            pages.append(("second page", (await _plans(database, principal, filters, sort, cursor))[0]))
        for page, nodes in pages:
            scans = _conversation_scans(nodes)
            assert scans, f"{label} ({page}): conversations not read?"
            # The big tables only (joined small ones may be hashed whole). A search text is matched in
            # messages without an index (see 0012_read_indexes): exempt.
            big = {"conversations"} | (set() if filters.q else {"messages"})
            read_whole = {n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"} & big
            assert not read_whole, f"{label} ({page}) reads whole tables: {read_whole}"
        if label in OWN_INDEX:
            used = {n.get("Index Name") for n in _conversation_scans(first)}
            used |= {n.get("Index Name") for n in first if n["Node Type"] == "Bitmap Index Scan"}
            assert OWN_INDEX[label] in used, f"{label}: {used}"


@pytest.mark.parametrize(
    ("filters", "sort", "key"),
    [
        (ConversationFilters(), "recent", "last_activity_at"),
        (ConversationFilters(statuses=("open",)), "recent", "last_activity_at"),
        (ConversationFilters(waiting=True), "waiting", "waiting_since"),
    ],
)
async def test_a_cursor_is_where_the_index_scan_starts(
    inbox: tuple[str, Ids], database: Database, filters: ConversationFilters, sort: Sort, key: str
) -> None:
    """The deep page's bound is an index condition, not a filter over the rows before it."""
    principal = _principal(inbox[1], "admin")
    _, cursor = await _plans(database, principal, filters, sort, None)
    assert cursor
    nodes, _ = await _plans(database, principal, filters, sort, cursor)
    conditions = " ".join(n.get("Index Cond", "") for n in _conversation_scans(nodes))
    assert f"ROW({key}, id)" in conditions, conditions


async def test_a_rare_contact_name_is_found_through_the_trigram_index(
    inbox: tuple[str, Ids], database: Database
) -> None:
    nodes, _ = await _plans(
        database, _principal(inbox[1], "admin"), ConversationFilters(q=inbox[1].contact_name), "recent", None
    )
    assert "ix_contacts_name_trgm" in {n.get("Index Name") for n in nodes}
