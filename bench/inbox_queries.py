"""`python -m bench.inbox_queries`: the inbox list (every filter and sort) and the sidebar counts on PostgreSQL
with N conversations: the plan PostgreSQL picks (which index) and the median / worst time of each query.

Creates a throw-away database, migrates it, inserts the rows in bulk (3 channels: WhatsApp, Messenger, API;
statuses, handlers, priorities, tags, waits and inbound times spread at random with a fixed seed), ANALYZEs,
then runs each query `--runs` times through the same code the API uses.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy import insert, text

from helpline.auth.models import Operator, Role
from helpline.auth.permissions import Principal
from helpline.channels.models import Channel
from helpline.contacts.models import Contact
from helpline.conversations.counts import conversation_counts
from helpline.conversations.models import Conversation
from helpline.conversations.queries import ConversationFilters, Sort, list_conversations, list_statement
from helpline.platform.clock import utcnow
from helpline.platform.db import Database
from helpline.platform.migrate import upgrade

INDEX_IN_PLAN = re.compile(r"Index (?:Only )?Scan(?: Backward)? (?:using|on) (\S+)")
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"

QUERIES: dict[str, tuple[ConversationFilters, Sort]] = {
    "recent (default view)": (ConversationFilters(), "recent"),
    "sort=waiting": (ConversationFilters(), "waiting"),
    "waiting=true&sort=waiting": (ConversationFilters(waiting=True), "waiting"),
    "window=closing": (ConversationFilters(window="closing"), "recent"),
    "window=closed": (ConversationFilters(window="closed"), "recent"),
    "contact_id=<one>": (ConversationFilters(contact_id=1), "recent"),
    "status=open&status=pending": (ConversationFilters(statuses=("open", "pending")), "recent"),
    "priority=urgent": (ConversationFilters(priorities=("urgent",)), "recent"),
    "tag=vip (20 %)": (ConversationFilters(tag="vip"), "recent"),
    "tag=legal (0.5 %)": (ConversationFilters(tag="legal"), "recent"),
    "assignee=me": (ConversationFilters(assignee="me"), "recent"),
}


async def _seed(db: Database, conversations: int, seed: int) -> int:
    rng = random.Random(seed)
    now = utcnow()
    async with db.transaction() as session:
        operator = Operator(email="bench@example.com", name="Bench", role=Role.admin.value, password_hash="x")
        session.add(operator)
        channels = [Channel(kind=k, name=k, settings={}) for k in ("whatsapp", "messenger", "api")]
        session.add_all(channels)
        await session.flush()
        contacts: list[dict[str, Any]] = [
            {"name": f"Contact {i}", "attributes": {}, "created_at": now, "updated_at": now}
            for i in range(conversations // 2)
        ]
        await session.execute(insert(Contact), contacts)
        rows: list[dict[str, Any]] = []
        for _ in range(conversations):
            status = rng.choices(["open", "pending", "resolved", "snoozed"], [3, 2, 6, 1])[0]
            handler = "bot" if status == "pending" and rng.random() < 0.8 else "human"
            inbound = now - timedelta(minutes=rng.randint(1, 60 * 24 * 5))
            rows.append(
                {
                    "channel_id": rng.choice(channels).id,
                    "contact_id": rng.randint(1, len(contacts)),
                    "status": status,
                    "handler": handler,
                    "assignee_id": operator.id if rng.random() < 0.2 else None,
                    "priority": rng.choices(["none", "low", "medium", "high", "urgent"], [20, 2, 2, 2, 1])[0],
                    "tags": rng.sample(["vip", "refund", "late", "b2b", "press"], rng.randint(0, 2))
                    + (["legal"] if rng.random() < 0.005 else []),
                    "last_inbound_at": inbound,
                    "last_activity_at": inbound + timedelta(minutes=rng.randint(0, 30)),
                    "waiting_since": inbound if handler == "human" and rng.random() < 0.3 else None,
                    "unread_count": 0,
                    "bot_state": {},
                    "created_at": inbound,
                    "updated_at": inbound,
                }
            )
        for start in range(0, len(rows), 2000):
            await session.execute(insert(Conversation), rows[start : start + 2000])
        return operator.id


async def _time(runs: int, call: Any) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


async def main(conversations: int, runs: int, seed: int, verbose: bool) -> None:
    name = f"bench_inbox_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        operator_id = await _seed(db, conversations, seed)
        async with db.transaction() as session:
            await session.execute(text("ANALYZE"))
        principal = Principal(operator_id=operator_id, role=Role.admin, channel_ids=frozenset())
        print(f"{conversations} conversations, {runs} runs per query, limit 50")
        print(f"{'query':32} {'median ms':>9} {'worst ms':>9}  plan (index scans)")
        for label, (filters, sort) in QUERIES.items():
            async with db.reads() as session:
                stmt = list_statement(
                    filters,
                    principal,
                    sort=sort,
                    cursor=None,
                    limit=50,
                    dialect="postgresql",
                    now=utcnow(),
                )
                compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
                plan = (await session.execute(text(f"EXPLAIN {compiled}"))).scalars().all()
                indexes = sorted({m.group(1) for line in plan if (m := INDEX_IN_PLAN.search(line))})
                if verbose:
                    print("\n".join(plan))

                async def run(
                    session: Any = session, filters: ConversationFilters = filters, sort: Sort = sort
                ) -> None:
                    await list_conversations(session, principal, filters, cursor=None, limit=50, sort=sort)

                median, worst = await _time(runs, run)
            print(f"{label:32} {median:9.1f} {worst:9.1f}  {', '.join(indexes) or 'seq scan'}")
        async with db.reads() as session:

            async def count(session: Any = session) -> None:
                await conversation_counts(session, principal)

            median, worst = await _time(runs, count)
        print(f"{'counts (presets, channels, assignees)':32} {median:9.1f} {worst:9.1f}")
        await db.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.inbox_queries", description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plans", action="store_true", help="print each whole plan")
    args = parser.parse_args()
    asyncio.run(main(args.conversations, args.runs, args.seed, args.plans))
