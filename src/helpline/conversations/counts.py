"""Sidebar counts: conversations per preset view, per channel and per assignee, and the oldest wait for a human.

Each preset is a `ConversationFilters` value, so its count and its list (`GET /conversations?<query>`) come
from the same WHERE clauses. One grouped query over the conversations the operator may see; PostgreSQL
answers it from the table in one pass.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.auth.models import Operator
from helpline.auth.permissions import Principal
from helpline.channels.models import Channel
from helpline.conversations.models import Conversation, Status
from helpline.conversations.queries import ConversationFilters, filter_clauses
from helpline.conversations.schemas import ChannelCounts, ConversationCounts, OperatorCounts
from helpline.conversations.waiting import ACTIVE_STATUSES, waiting_clause
from helpline.platform.clock import utcnow

# key → (filters, extra list parameters that only order the list)
PRESETS: dict[str, tuple[ConversationFilters, dict[str, str]]] = {
    "all": (ConversationFilters(), {}),
    "mine_open": (ConversationFilters(assignee="me", statuses=ACTIVE_STATUSES), {}),
    "waiting": (ConversationFilters(waiting=True), {"sort": "waiting"}),
    "bot": (ConversationFilters(handler="bot", statuses=ACTIVE_STATUSES), {}),
    "closing_soon": (ConversationFilters(window="closing", statuses=ACTIVE_STATUSES), {}),
    "snoozed": (ConversationFilters(statuses=(Status.snoozed.value,)), {}),
    "resolved": (ConversationFilters(statuses=(Status.resolved.value,)), {}),
}
PER_CHANNEL = ("waiting", "bot", "closing_soon")


def preset_query(key: str) -> str:
    """The list query string of a preset, e.g. "waiting=true&sort=waiting"."""
    filters, extra = PRESETS[key]
    params: list[tuple[str, str]] = []
    if filters.assignee:
        params.append(("assignee", filters.assignee))
    if filters.handler:
        params.append(("handler", filters.handler))
    if filters.waiting is not None:
        params.append(("waiting", "true" if filters.waiting else "false"))
    if filters.window:
        params.append(("window", filters.window))
    params.extend(("status", s) for s in filters.statuses)
    params.extend(extra.items())
    return urlencode(params)


def _count(clause: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((clause, 1), else_=0)), 0)


async def conversation_counts(session: AsyncSession, principal: Principal) -> ConversationCounts:
    """Counts of what `principal` may see: per preset, per channel (waiting, bot, closing_soon), per assignee
    (open, waiting) and the oldest `waiting_since` among the conversations waiting for a human."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    preset_clauses = {
        key: and_(true(), *filter_clauses(filters, principal, dialect=dialect, now=now))
        for key, (filters, _) in PRESETS.items()
    }
    columns = [_count(preset_clauses[key]).label(key) for key in PRESETS]
    oldest = func.min(case((waiting_clause(), Conversation.waiting_since), else_=None)).label("oldest")
    stmt = (
        select(Conversation.channel_id, oldest, *columns)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(principal.channel_filter(Conversation.channel_id))
        .group_by(Conversation.channel_id)
        .order_by(Conversation.channel_id)
    )
    rows = (await session.execute(stmt)).mappings().all()
    assigned = (
        select(
            Conversation.assignee_id,
            Operator.name,
            func.count().label("open"),
            _count(waiting_clause()).label("waiting"),
        )
        .join(Operator, Operator.id == Conversation.assignee_id)
        .where(principal.channel_filter(Conversation.channel_id), Conversation.status.in_(ACTIVE_STATUSES))
        .group_by(Conversation.assignee_id, Operator.name)
        .order_by(Operator.name, Conversation.assignee_id)
    )
    per_operator = (await session.execute(assigned)).all()
    totals = {key: sum(int(row[key]) for row in rows) for key in PRESETS}
    waits: list[datetime] = [row["oldest"] for row in rows if row["oldest"] is not None]
    return ConversationCounts(
        presets=totals,
        preset_queries={key: preset_query(key) for key in PRESETS},
        channels=[
            ChannelCounts(channel_id=row["channel_id"], **{key: int(row[key]) for key in PER_CHANNEL}) for row in rows
        ],
        operators=[
            OperatorCounts(operator_id=operator_id, name=name, open=int(open_), waiting=int(waiting))
            for operator_id, name, open_, waiting in per_operator
        ],
        oldest_waiting_since=_as_utc(min(waits)) if waits else None,
    )


def _as_utc(value: datetime | str) -> datetime:
    """min() over a CASE loses the column type on SQLite (a naive string or datetime comes back)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
