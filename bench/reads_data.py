"""`python -m bench.reads_data`: fill a throw-away PostgreSQL database with an inbox of realistic shape, fast.

Defaults: 200 channels of six kinds, 50,000 contacts (one identity each), 100,000 conversations and
1,000,000 messages. Conversation sizes are skewed (a few with thousands of messages, most with a handful);
statuses, handlers, assignees, events, tags, priorities, waits and reply windows are drawn with a fixed seed
and correlated with recency as in a live inbox (recent conversations are open, old ones resolved).

The schema is the migrations' (`platform.migrate.upgrade` first); rows go in with PostgreSQL's COPY
(asyncpg `copy_records_to_table`), and the conversations' denormalised columns (last activity, last
inbound, preview, last author, waiting_since, unread count) are computed from the messages generated for
them, so they agree with what the ingest path would have written. Then ANALYZE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from helpline.platform.clock import utcnow
from helpline.platform.migrate import upgrade

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
KINDS = {"whatsapp": 60, "messenger": 40, "instagram": 30, "email": 30, "widget": 25, "api": 15}
TAGS = {"vip": 0.10, "refund": 0.06, "late": 0.05, "b2b": 0.04, "press": 0.01, "legal": 0.005}
PRIORITIES = (["none", "low", "medium", "high", "urgent"], [82, 6, 5, 5, 2])
FIRST = "Ana Bruno Carla Diego Elisa Fabio Gabi Hugo Ines Joao Karen Luis Maria Nuno Olga Paulo Rita Sergio Tania Vitor"
LAST = "Silva Souza Costa Santos Oliveira Pereira Lima Carvalho Ferreira Rodrigues Almeida Nunes Gomes Martins Rocha"
VOCABULARY = (
    "hello hi thanks please order delivery refund ticket invoice payment card account password login app "
    "error late missing broken wrong size color address change cancel return exchange price discount "
    "coupon shipping tracking package store opening hours manager complaint help question today tomorrow "
    "yesterday still waiting again received sent email phone number confirm booking seat event concert "
    "fair parking"
)
WORDS = VOCABULARY.split()


@dataclass
class Generated:
    """What the generator made: the database's name and URL and the ids a benchmark needs."""

    name: str
    url: str
    me: int  # the benchmark's operator ("assignee=me"), an admin
    agent: int  # an agent who is a member of some channels
    agent_channels: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _sizes(rng: random.Random, conversations: int, messages: int) -> list[int]:
    """Messages per conversation: 0.02 % of conversations with 0.2 to 0.8 % of all
    messages each (2,000 to 8,000 of 1 M), the rest log-normal (median ~5),
    scaled so the total is exactly `messages` (at least one message each)."""
    huge = max(1, conversations // 5000)
    sizes = [rng.randint(messages // 500, messages // 125) for _ in range(huge)]
    rest = messages - sum(sizes)
    raw = [rng.lognormvariate(1.6, 1.0) for _ in range(conversations - huge)]
    scale = (rest - len(raw)) / sum(raw)
    sizes += [1 + int(r * scale) for r in raw]
    short = messages - sum(sizes)
    while short > 0:
        i = rng.randrange(huge, conversations)
        sizes[i] += 1
        short -= 1
    rng.shuffle(sizes)
    return sizes


def message_text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(3, 25))
    if rng.random() < 0.05:
        words.append(f"#{rng.randint(100000, 999999)}")  # an order number: a rare, searchable token
    return " ".join(words).capitalize()


async def _ids(conn: asyncpg.Connection, table: str, rows: list[tuple[Any, ...]], columns: list[str]) -> list[int]:
    await conn.copy_records_to_table(table, records=rows, columns=columns)
    return [r["id"] for r in await conn.fetch(f"SELECT id FROM {table} ORDER BY id")]  # noqa: S608 - fixed names


async def fill(
    url: str, *, channels: int, contacts: int, conversations: int, messages: int, seed: int
) -> tuple[int, int, list[int]]:
    """Insert everything into the migrated, empty database at `url` (asyncpg DSN); returns (me, agent,
    agent's channel ids)."""
    rng = random.Random(seed)
    now = utcnow()
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            profiles = await _ids(
                conn,
                "profiles",
                [(f"Brand {i}", now, now) for i in range(8)],
                ["name", "created_at", "updated_at"],
            )
            events = await _ids(
                conn,
                "events",
                [(profiles[i % len(profiles)], f"Event {i}", now, now) for i in range(20)],
                ["profile_id", "name", "created_at", "updated_at"],
            )
            operator_rows = [("bench@example.com", "Bench Admin", "admin", "x", True, now, now)]
            operator_rows += [
                (f"agent{i}@example.com", f"Agent {i}", "supervisor" if i < 5 else "agent", "x", True, now, now)
                for i in range(40)
            ]
            operators = await _ids(
                conn,
                "operators",
                operator_rows,
                ["email", "name", "role", "password_hash", "active", "created_at", "updated_at"],
            )
            kinds = [k for k, n in KINDS.items() for _ in range(n)]
            kinds = (kinds * (channels // len(kinds) + 1))[:channels]
            rng.shuffle(kinds)
            channel_rows = [
                (
                    kind,
                    f"{kind} {i}",
                    profiles[i % len(profiles)] if i % 10 else None,
                    "{}",
                    "active",
                    now,
                    now,
                )
                for i, kind in enumerate(kinds)
            ]
            channel_ids = await _ids(
                conn,
                "channels",
                channel_rows,
                ["kind", "name", "profile_id", "settings", "status", "created_at", "updated_at"],
            )
            agent, agent_channels = operators[-1], sorted(rng.sample(channel_ids, 20))
            await conn.copy_records_to_table(
                "channel_members",
                records=[(c, agent) for c in agent_channels],
                columns=["channel_id", "operator_id"],
            )
            contact_rows = [
                (
                    f"{rng.choice(FIRST.split())} {rng.choice(LAST.split())} {i}",
                    f"c{i}@example.com" if rng.random() < 0.4 else None,
                    f"+55{11_900_000_000 + i}",
                    json.dumps({"language": rng.choice(["pt", "en", "es"])} if rng.random() < 0.3 else {}),
                    now,
                    now,
                )
                for i in range(contacts)
            ]
            contact_ids = await _ids(
                conn, "contacts", contact_rows, ["name", "email", "phone", "attributes", "created_at", "updated_at"]
            )
            await conn.copy_records_to_table(
                "contact_identities",
                records=[("whatsapp", row[2], cid, now) for row, cid in zip(contact_rows, contact_ids, strict=True)],
                columns=["kind", "provider_id", "contact_id", "created_at"],
            )
            await _conversations_and_messages(
                conn, rng, now, channel_ids, contact_ids, operators, events, conversations, messages
            )
        return operators[0], agent, agent_channels
    finally:
        await conn.close()


CONVERSATION_COLUMNS = [
    "id",
    "channel_id",
    "contact_id",
    "status",
    "handler",
    "assignee_id",
    "event_id",
    "priority",
    "tags",
    "snoozed_until",
    "last_inbound_at",
    "last_message_at",
    "last_activity_at",
    "last_message_preview",
    "last_message_author",
    "last_message_author_name",
    "waiting_since",
    "unread_count",
    "bot_state",
    "created_at",
    "updated_at",
]
MESSAGE_COLUMNS = [
    "id",
    "conversation_id",
    "channel_id",
    "direction",
    "author_kind",
    "operator_id",
    "text",
    "content_type",
    "content",
    "provider_message_id",
    "delivery_state",
    "provider_timestamp",
    "occurred_at",
    "created_at",
    "updated_at",
]


async def _conversations_and_messages(
    conn: asyncpg.Connection,
    rng: random.Random,
    now: datetime,
    channel_ids: list[int],
    contact_ids: list[int],
    operators: list[int],
    events: list[int],
    conversations: int,
    messages: int,
) -> None:
    channel_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(channel_ids))]
    sizes = _sizes(rng, conversations, messages)
    conversation_rows: list[tuple[Any, ...]] = []
    pending_messages: list[tuple[datetime, int, tuple[Any, ...]]] = []
    for index, size in enumerate(sizes):
        conversation_id = index + 1
        channel_id = rng.choices(channel_ids, channel_weights)[0]
        # Recency: a third of the inbox moved in the last 3 days, the rest decays over a year.
        age = rng.uniform(0, 3) if rng.random() < 0.33 else min(365.0, 3 + rng.expovariate(1 / 40))
        last = now - timedelta(days=age)
        recent = age < 3
        status = rng.choices(["open", "pending", "resolved", "snoozed"], [40, 25, 25, 10] if recent else [4, 2, 91, 3])[
            0
        ]
        handler = "bot" if status == "pending" and rng.random() < 0.6 else "human"
        assigned = rng.random() < (0.7 if status != "resolved" else 0.9) and handler == "human"
        assignee = rng.choice(operators) if assigned else None
        gap = timedelta(minutes=rng.uniform(0.5, 90))
        first = last - gap * size
        times = [*sorted(first + (last - first) * rng.random() for _ in range(size - 1)), last]
        # Messages of the conversation; the first is the customer's.
        inbound_bias = 0.55
        last_inbound: datetime | None = None
        trailing_inbound: list[datetime] = []
        author_name: str | None = None
        preview = author = None
        for position, at in enumerate(times):
            system = position > 0 and rng.random() < 0.02
            inbound = position == 0 or (not system and rng.random() < inbound_bias)
            if inbound:
                direction, author, operator_id, state = "inbound", "contact", None, "received"
                last_inbound = at
                trailing_inbound.append(at)
            elif system:
                direction, author, operator_id, state = "outbound", "system", None, "internal"
            else:
                by_bot = handler == "bot" or rng.random() < 0.3
                direction, author = "outbound", "bot" if by_bot else "operator"
                operator_id = None if by_bot else (assignee or rng.choice(operators))
                state = rng.choices(["sent", "delivered", "read", "failed"], [10, 40, 48, 2])[0]
                trailing_inbound = []
            text = "Conversation handed to a person" if system else message_text(rng)
            provider_ts = at if inbound else None
            pending_messages.append(
                (
                    at,
                    conversation_id,
                    (channel_id, direction, author, operator_id, text, "text", "{}", state, provider_ts, at),
                )
            )
            preview = text[:300]
            author_name = f"Agent {operator_id}" if author == "operator" else None
        active = status in ("open", "pending", "snoozed")
        waiting = trailing_inbound[0] if active and trailing_inbound else None
        tags = [t for t, share in TAGS.items() if rng.random() < share]
        conversation_rows.append(
            (
                conversation_id,
                channel_id,
                rng.choice(contact_ids),
                status,
                handler,
                assignee,
                rng.choice(events) if rng.random() < 0.25 else None,
                rng.choices(*PRIORITIES)[0],
                json.dumps(tags),
                now + timedelta(hours=rng.uniform(1, 72)) if status == "snoozed" else None,
                last_inbound,
                last,
                last,
                preview,
                author,
                author_name,
                waiting,
                len(trailing_inbound) if active else 0,
                "{}",
                first,
                last,
            )
        )
    await conn.copy_records_to_table("conversations", records=conversation_rows, columns=CONVERSATION_COLUMNS)
    # Ids follow arrival order, as they would in a live database.
    pending_messages.sort(key=lambda m: (m[0], m[1]))
    message_rows = []
    for message_id, (at, conversation_id, rest) in enumerate(pending_messages, start=1):
        channel_id, direction, author, operator_id, text, ctype, content, state, provider_ts, occurred = rest
        provider_id = f"p{message_id}" if author in ("contact", "bot", "operator") and state != "failed" else None
        message_rows.append(
            (
                message_id,
                conversation_id,
                channel_id,
                direction,
                author,
                operator_id,
                text,
                ctype,
                content,
                provider_id,
                state,
                provider_ts,
                occurred,
                at,
                at,
            )
        )
    for start in range(0, len(message_rows), 200_000):
        await conn.copy_records_to_table(
            "messages", records=message_rows[start : start + 200_000], columns=MESSAGE_COLUMNS
        )
    for table in ("conversations", "messages"):
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
        )


async def create(
    *,
    channels: int = 200,
    contacts: int = 50_000,
    conversations: int = 100_000,
    messages: int = 1_000_000,
    seed: int = 7,
    admin_url: str = ADMIN_URL,
) -> Generated:
    """Create, migrate, fill and ANALYZE a database named bench_reads_<random>; `Generated.seconds` has the
    time of each phase."""
    name = f"bench_reads_{uuid.uuid4().hex[:8]}"
    base = admin_url.rsplit("/", 1)[0]
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = f"{base}/{name}"
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    await asyncio.to_thread(upgrade, url.replace("postgresql://", "postgresql+asyncpg://"))
    seconds["migrate"] = time.perf_counter() - started
    started = time.perf_counter()
    me, agent, agent_channels = await fill(
        url, channels=channels, contacts=contacts, conversations=conversations, messages=messages, seed=seed
    )
    seconds["generate+copy"] = time.perf_counter() - started
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    seconds["vacuum analyze"] = time.perf_counter() - started
    return Generated(name, url, me, agent, agent_channels, seconds)


async def drop(name: str, admin_url: str = ADMIN_URL) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def describe(url: str) -> dict[str, Any]:
    """Row counts and the skew of conversation sizes, for the report."""
    conn = await asyncpg.connect(url)
    try:
        counts = {
            t: await conn.fetchval(f"SELECT count(*) FROM {t}")  # noqa: S608 - fixed names
            for t in ("channels", "contacts", "conversations", "messages")
        }
        sizes = await conn.fetchrow(
            "SELECT max(n) AS max, percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS median, "
            "count(*) FILTER (WHERE n >= 1000) AS over_1000 "
            "FROM (SELECT count(*) AS n FROM messages GROUP BY conversation_id) s"
        )
        size = await conn.fetchval(f"SELECT pg_size_pretty(pg_database_size('{url.rsplit('/', 1)[1]}'))")
        return {**counts, **dict(sizes), "database size": size}
    finally:
        await conn.close()


async def _main(args: argparse.Namespace) -> None:
    generated = await create(
        channels=args.channels,
        contacts=args.contacts,
        conversations=args.conversations,
        messages=args.messages,
        seed=args.seed,
        admin_url=args.admin_url,
    )
    try:
        print(f"database {generated.name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in generated.seconds.items()))
        print(", ".join(f"{k} {v}" for k, v in (await describe(generated.url)).items()))
        print(f"me={generated.me} agent={generated.agent} agent_channels={generated.agent_channels}")
    finally:
        if args.keep:
            print(f'kept: {generated.url} (drop with: DROP DATABASE "{generated.name}")')
        else:
            await drop(generated.name, args.admin_url)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--admin-url", default=ADMIN_URL, help="a PostgreSQL user allowed to CREATE DATABASE")
    parser.add_argument("--keep", action="store_true", help="do not drop the database afterwards")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.reads_data", description=__doc__)
    arguments(parser)
    asyncio.run(_main(parser.parse_args()))
