"""`python -m bench.reads`: the inbox's reads on PostgreSQL at 1 M messages: every list filter the API accepts
(alone and in realistic combinations, first page and a deep page through the keyset cursor), the message
pages of small and huge conversations, one conversation, and the sidebar counts.

Each figure is the wall time of the same function the route calls (`queries.list_conversations`,
`get_visible_conversation` + `list_messages`, `conversation_public`, `counts.conversation_counts`), repeated
`--runs` times (fewer when a case exceeds `--budget` seconds); p50 / p95 / worst in ms. The statements each
call sends are captured from the engine and replayed under `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`; the
slowest one's plan is summarised: how `conversations` / `messages` are reached (index name, or Seq Scan), sorts
and rows removed by filters, and shared buffers touched.

The data comes from `bench.reads_data` (a new database, dropped afterwards unless `--keep`), or an existing
one with `--database NAME` (made with `python -m bench.reads_data --keep`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event, select, text

from bench.reads_data import ADMIN_URL, create, describe, drop
from bench.reads_sqlite import copy_to_sqlite
from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.conversations.counts import conversation_counts
from helpline.conversations.models import Message
from helpline.conversations.queries import (
    ConversationFilters,
    Sort,
    conversation_public,
    get_visible_conversation,
    list_conversations,
    list_messages,
)
from helpline.platform.db import Database

F = ConversationFilters
ACTIVE = ("open", "pending")


@dataclass(frozen=True)
class Ids:
    """Row ids the cases name, picked from the generated data."""

    me: int
    other: int
    agent: int
    agent_channels: frozenset[int]
    big_channel: int
    small_channel: int
    profile: int
    event: int
    contact: int
    contact_name: str
    order_number: str


def list_cases(ids: Ids) -> list[tuple[str, ConversationFilters, Sort, str]]:
    """(label, filters, sort, principal "admin"|"agent") — every filter of GET /conversations alone, then the
    presets of the sidebar and other combinations an operator clicks together."""
    return [
        ("(none) recent", F(), "recent", "admin"),
        ("(none) sort=waiting", F(), "waiting", "admin"),
        ("channel_kind=whatsapp", F(channel_kinds=("whatsapp",)), "recent", "admin"),
        ("channel_kind=email&widget", F(channel_kinds=("email", "widget")), "recent", "admin"),
        ("channel_id=<busiest>", F(channel_id=ids.big_channel), "recent", "admin"),
        ("channel_id=<quiet>", F(channel_id=ids.small_channel), "recent", "admin"),
        ("profile_id", F(profile_id=ids.profile), "recent", "admin"),
        ("event_id", F(event_id=ids.event), "recent", "admin"),
        ("contact_id", F(contact_id=ids.contact), "recent", "admin"),
        ("status=open", F(statuses=("open",)), "recent", "admin"),
        ("status=open&pending", F(statuses=ACTIVE), "recent", "admin"),
        ("status=resolved", F(statuses=("resolved",)), "recent", "admin"),
        ("status=snoozed", F(statuses=("snoozed",)), "recent", "admin"),
        ("priority=urgent", F(priorities=("urgent",)), "recent", "admin"),
        ("priority=high&urgent", F(priorities=("high", "urgent")), "recent", "admin"),
        ("tag=vip (10 %)", F(tag="vip"), "recent", "admin"),
        ("tag=legal (0.5 %)", F(tag="legal"), "recent", "admin"),
        ("window=open", F(window="open"), "recent", "admin"),
        ("window=closing", F(window="closing"), "recent", "admin"),
        ("window=closed", F(window="closed"), "recent", "admin"),
        ("waiting=true", F(waiting=True), "recent", "admin"),
        ("waiting=false", F(waiting=False), "recent", "admin"),
        ("handler=bot", F(handler="bot"), "recent", "admin"),
        ("handler=human", F(handler="human"), "recent", "admin"),
        ("assignee=me", F(assignee="me"), "recent", "admin"),
        ("assignee=none", F(assignee="none"), "recent", "admin"),
        ("assignee=<id>", F(assignee=str(ids.other)), "recent", "admin"),
        ("q=<contact name>", F(q=ids.contact_name), "recent", "admin"),
        ("q=<order number>", F(q=ids.order_number), "recent", "admin"),
        ("q=refund (common word)", F(q="refund"), "recent", "admin"),
        # The sidebar's presets (counts.PRESETS) as the list opens them.
        ("preset mine_open", F(assignee="me", statuses=ACTIVE), "recent", "admin"),
        ("preset waiting (sort=waiting)", F(waiting=True), "waiting", "admin"),
        ("preset bot", F(handler="bot", statuses=ACTIVE), "recent", "admin"),
        ("preset closing_soon", F(window="closing", statuses=ACTIVE), "recent", "admin"),
        # Combinations.
        ("channel_id=<busiest>&status=open", F(channel_id=ids.big_channel, statuses=("open",)), "recent", "admin"),
        ("channel_id=<quiet>&assignee=me", F(channel_id=ids.small_channel, assignee="me"), "recent", "admin"),
        (
            "channel_kind=whatsapp&waiting (sort=waiting)",
            F(channel_kinds=("whatsapp",), waiting=True),
            "waiting",
            "admin",
        ),
        ("profile_id&status=open&pending", F(profile_id=ids.profile, statuses=ACTIVE), "recent", "admin"),
        ("event_id&status=open", F(event_id=ids.event, statuses=("open",)), "recent", "admin"),
        ("tag=vip&status=open", F(tag="vip", statuses=("open",)), "recent", "admin"),
        ("priority=urgent&status=open&pending", F(priorities=("urgent",), statuses=ACTIVE), "recent", "admin"),
        ("assignee=none&status=open&pending", F(assignee="none", statuses=ACTIVE), "recent", "admin"),
        ("assignee=me&waiting (sort=waiting)", F(assignee="me", waiting=True), "waiting", "admin"),
        ("status=resolved&handler=bot (empty)", F(statuses=("resolved",), handler="bot"), "recent", "admin"),
        ("tag=legal&status=resolved", F(tag="legal", statuses=("resolved",)), "recent", "admin"),
        ("status=snoozed&priority=urgent", F(statuses=("snoozed",), priorities=("urgent",)), "recent", "admin"),
        ("q=<contact name>&status=open", F(q=ids.contact_name, statuses=("open",)), "recent", "admin"),
        # An agent sees only the 20 channels they are a member of.
        ("agent: (none)", F(), "recent", "agent"),
        ("agent: waiting (sort=waiting)", F(waiting=True), "waiting", "agent"),
        ("agent: status=open&pending", F(statuses=ACTIVE), "recent", "agent"),
        ("agent: assignee=none&open&pending", F(assignee="none", statuses=ACTIVE), "recent", "agent"),
    ]


@dataclass
class Figure:
    label: str
    runs: int
    p50: float
    p95: float
    worst: float
    cpu: float  # median CPU ms of this process per call (Python's share, whatever the machine's load)
    plan: str


class Recorder:
    """Captures the SQL statements (and their DBAPI parameters) the engine sends while `on` is set."""

    def __init__(self, db: Database) -> None:
        self.on = False
        self.statements: list[tuple[str, Any]] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on:
            self.statements.append((statement, parameters))


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _walk(child))]


def summarise(plan: dict[str, Any]) -> str:
    """One line: how conversations/messages are reached, sorts, rows removed by filters, buffers, time."""
    root = plan["Plan"]
    parts: list[str] = []
    for node in _walk(root):
        kind = node["Node Type"]
        relation = node.get("Relation Name", "")
        if relation in ("conversations", "messages", "contacts") or kind.startswith("Seq Scan"):
            if relation == "contacts" and "Index Name" in node and node["Index Name"].startswith("pk_"):
                continue
            name = node.get("Index Name", "")
            scan = f"{kind} {name}".strip() if name else f"{kind} {relation}"
            removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
            loops = node.get("Actual Loops", 1)
            detail = f"rows {node['Actual Rows'] * loops}" + (f", -{removed * loops} by filter" if removed else "")
            parts.append(f"{scan} ({detail})")
        elif kind == "Sort":
            parts.append(f"Sort {node.get('Sort Method', '')} of {node['Actual Rows']}")
    buffers = root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)
    return f"{'; '.join(dict.fromkeys(parts))} | {buffers} buf, {plan['Execution Time']:.1f} ms"


async def explain(db: Database, statements: list[tuple[str, Any]]) -> str:
    """The summary of the slowest of `statements` under EXPLAIN (ANALYZE, BUFFERS); on SQLite, the lines of
    every statement's EXPLAIN QUERY PLAN that read conversations or messages."""
    slowest: tuple[float, str] = (-1.0, "")
    async with db.reads() as session:
        conn = await session.connection()
        if not db.is_postgres:
            lines: list[str] = []
            for statement, parameters in statements:
                rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
                lines += [row[-1] for row in rows if re.search(r"conversations|messages|B-TREE", row[-1])]
            return "; ".join(dict.fromkeys(lines))
        for statement, parameters in statements:
            result = await conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters)
            raw = result.scalar_one()
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
            if plan["Execution Time"] > slowest[0]:
                slowest = (plan["Execution Time"], summarise(plan))
    return slowest[1]


async def measure(
    db: Database,
    recorder: Recorder,
    label: str,
    call: Callable[[], Awaitable[Any]],
    runs: int,
    budget: float,
    min_runs: int = 20,
) -> Figure:
    recorder.statements.clear()
    recorder.on = True
    await call()  # warm: the plan cache and the buffers, and the statements to explain
    recorder.on = False
    statements = list(recorder.statements)
    samples: list[float] = []
    cpu: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < runs and (len(samples) < min_runs or time.perf_counter() < deadline):
        started, cpu_started = time.perf_counter(), time.process_time()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    plan = await explain(db, statements)
    return Figure(label, len(samples), statistics.median(samples), p95, samples[-1], statistics.median(cpu), plan)


def _print(figure: Figure) -> None:
    print(
        f"{figure.label:52} {figure.runs:4d} {figure.p50:7.1f} {figure.p95:7.1f} {figure.worst:7.1f} {figure.cpu:6.1f}"
        f"  {figure.plan}",
        flush=True,
    )


async def _deep_cursor(
    db: Database, principal: Principal, filters: ConversationFilters, sort: Sort, depth: int
) -> tuple[str | None, int]:
    """The `next_cursor` after row `depth` (or after the last full page before it when fewer rows match),
    reached by paging with the API's largest page (200) through the route's own function; and that row."""
    cursor: str | None = None
    seen = 0
    async with db.reads() as session:
        while seen < depth:
            page = await list_conversations(
                session, principal, filters, cursor=cursor, limit=min(200, depth - seen), sort=sort
            )
            if page.next_cursor is None:
                break
            cursor, seen = page.next_cursor, seen + len(page.items)
    return cursor, seen


async def pick_ids(url: str, me: int, agent: int, agent_channels: list[int]) -> Ids:
    conn = await asyncpg.connect(url)
    try:
        big = await conn.fetchval("SELECT channel_id FROM conversations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        small = await conn.fetchval(
            "SELECT channel_id FROM conversations GROUP BY 1 HAVING count(*) >= 60 ORDER BY count(*) LIMIT 1"
        )
        other = await conn.fetchval(
            "SELECT assignee_id FROM conversations WHERE assignee_id <> $1 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
            me,
        )
        profile = await conn.fetchval("SELECT profile_id FROM channels WHERE profile_id IS NOT NULL LIMIT 1")
        event_id = await conn.fetchval("SELECT event_id FROM conversations WHERE event_id IS NOT NULL LIMIT 1")
        contact = await conn.fetchrow(
            "SELECT c.id, c.name FROM contacts c JOIN conversations v ON v.contact_id = c.id "
            "GROUP BY c.id ORDER BY count(*) DESC LIMIT 1"
        )
        order = await conn.fetchval(
            "SELECT substring(text from '#[0-9]+') FROM messages WHERE text LIKE '%#%' ORDER BY id DESC LIMIT 1"
        )
    finally:
        await conn.close()
    return Ids(
        me,
        other,
        agent,
        frozenset(agent_channels),
        big,
        small,
        profile,
        event_id,
        contact["id"],
        contact["name"],
        order,
    )


async def run(
    url: str, me: int, agent: int, agent_channels: list[int], args: argparse.Namespace, target: str | None = None
) -> None:
    """Every case against `target` (an SQLAlchemy URL; default: the PostgreSQL database `url` itself)."""
    ids = await pick_ids(url, me, agent, agent_channels)
    principals = {
        "admin": Principal(operator_id=ids.me, role=Role.admin, channel_ids=frozenset()),
        "agent": Principal(operator_id=ids.agent, role=Role.agent, channel_ids=ids.agent_channels),
    }
    db = Database(target or url.replace("postgresql://", "postgresql+asyncpg://"), pool_size=2, max_overflow=0)
    recorder = Recorder(db)
    only = args.only.lower() if args.only else None
    header = (
        f"{'case':52} {'runs':>4} {'p50 ms':>7} {'p95 ms':>7} {'worst':>7} {'cpu ms':>6}  plan of the slowest statement"
    )
    print(f"\nGET /conversations (limit 50; deep = after row {args.depth} via the cursor)\n{header}")
    results: list[Figure] = []
    for label, filters, sort, who in list_cases(ids):
        if only and only not in label.lower():
            continue
        principal = principals[who]
        cursor, offset = await _deep_cursor(db, principal, filters, sort, args.depth)
        for page, page_cursor in (("first", None), (f"after {offset}", cursor)):
            if page != "first" and page_cursor is None:
                continue

            async def call(
                principal: Principal = principal,
                filters: ConversationFilters = filters,
                sort: Sort = sort,
                page_cursor: str | None = page_cursor,
            ) -> None:
                async with db.reads() as session:
                    await list_conversations(session, principal, filters, cursor=page_cursor, limit=50, sort=sort)

            results.append(
                await measure(db, recorder, f"{label} [{page}]", call, args.runs, args.budget, args.min_runs)
            )
            _print(results[-1])
    if not only or "message" in only:
        print(f"\nGET /conversations/{{id}}/messages (limit 50) and GET /conversations/{{id}}\n{header}")
        results += await _message_cases(db, recorder, principals["admin"], args)
    if not only or "count" in only:
        print(f"\nGET /conversations/counts\n{header}")
        for who, principal in principals.items():

            async def counts(principal: Principal = principal) -> None:
                async with db.reads() as session:
                    await conversation_counts(session, principal)

            results.append(
                await measure(db, recorder, f"counts ({who})", counts, args.runs, args.budget, args.min_runs)
            )
            _print(results[-1])
    await db.dispose()
    if args.json:
        print(json.dumps([vars(r) for r in results]))


async def _message_cases(
    db: Database, recorder: Recorder, principal: Principal, args: argparse.Namespace
) -> list[Figure]:
    figures: list[Figure] = []
    async with db.reads() as session:
        sizes = (
            await session.execute(
                text("SELECT conversation_id, count(*) AS n FROM messages GROUP BY 1 ORDER BY 2 DESC")
            )
        ).all()
    picks = {
        "largest": sizes[0],
        "99th percentile": sizes[len(sizes) // 100],
        "90th percentile": sizes[len(sizes) // 10],
        "median": sizes[len(sizes) // 2],
    }
    for name, (conversation_id, n) in picks.items():
        async with db.reads() as session:
            older = (
                await session.execute(
                    select(Message.id)
                    .where(Message.conversation_id == conversation_id)
                    .order_by(Message.occurred_at.desc(), Message.id.desc())
                    .offset(min(n - 1, max(0, n // 2 if n < 2000 else 1000)))
                    .limit(1)
                )
            ).scalar_one()

        for page, cursor, after in (
            ("newest page", None, None),
            ("older page", str(older), None),
            ("after (catch-up)", None, older),
        ):

            async def call(
                conversation_id: int = conversation_id, cursor: str | None = cursor, after: int | None = after
            ) -> None:
                async with db.reads() as session:
                    await get_visible_conversation(session, principal, conversation_id)
                    await list_messages(session, conversation_id, cursor=cursor, after=after, limit=50)

            figures.append(
                await measure(db, recorder, f"{name} ({n} msgs) {page}", call, args.runs, args.budget, args.min_runs)
            )
            _print(figures[-1])

        async def one(conversation_id: int = conversation_id) -> None:
            async with db.reads() as session:
                await get_visible_conversation(session, principal, conversation_id)
                await conversation_public(session, conversation_id)

        figures.append(
            await measure(
                db, recorder, f"{name}: GET /conversations/{{id}}", one, args.runs, args.budget, args.min_runs
            )
        )
        _print(figures[-1])
    return figures


async def _main(args: argparse.Namespace) -> None:
    print(f"uptime: {_uptime()}")
    if args.database:
        base = args.admin_url.rsplit("/", 1)[0]
        url = f"{base}/{args.database}"
        conn = await asyncpg.connect(url)
        try:
            me = await conn.fetchval("SELECT id FROM operators WHERE email = 'bench@example.com'")
            agent = await conn.fetchval("SELECT operator_id FROM channel_members LIMIT 1")
            channels = [
                r[0] for r in await conn.fetch("SELECT channel_id FROM channel_members WHERE operator_id=$1", agent)
            ]
        finally:
            await conn.close()
        if args.sqlite:
            started = time.perf_counter()
            target = await copy_to_sqlite(url, args.sqlite)
            print(f"copied into {args.sqlite} in {time.perf_counter() - started:.1f} s")
            await run(url, me, agent, channels, args, target)
        else:
            await run(url, me, agent, channels, args)
        print(f"uptime: {_uptime()}")
        return
    generated = await create(seed=args.seed, admin_url=args.admin_url)
    print(f"generated {generated.name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in generated.seconds.items()))
    print(", ".join(f"{k} {v}" for k, v in (await describe(generated.url)).items()))
    try:
        await run(generated.url, generated.me, generated.agent, generated.agent_channels, args)
    finally:
        if args.keep:
            print(f"kept database {generated.name}")
        else:
            await drop(generated.name, args.admin_url)
    print(f"uptime: {_uptime()}")


def _uptime() -> str:
    with open("/proc/loadavg") as loadavg:
        return "load average " + ", ".join(loadavg.read().split()[:3])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__)
    parser.add_argument("--database", help="use this existing database (from bench.reads_data --keep)")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--budget", type=float, default=4.0, help="seconds per case, then stop at --min-runs")
    parser.add_argument("--min-runs", type=int, default=20)
    parser.add_argument("--depth", type=int, default=1000, help="the deep page starts after this many rows")
    parser.add_argument("--only", help="run the cases whose label contains this (or 'messages', 'counts')")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--sqlite", help="copy --database into a new SQLite file at this path and measure that")
    parser.add_argument("--json", action="store_true")
    asyncio.run(_main(parser.parse_args()))
