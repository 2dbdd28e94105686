"""Reads for the inbox: conversation lists with filters and cursors, one conversation, its messages."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, cast, exists, false, func, literal, or_, select, true, tuple_, union
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from helpline.attachments.models import Attachment
from helpline.auth.models import Operator
from helpline.auth.permissions import Principal
from helpline.channels.models import Channel
from helpline.channels.registry import ADAPTERS
from helpline.contacts.models import Contact
from helpline.conversations.models import AuthorKind, Conversation, Message
from helpline.conversations.schemas import (
    AttachmentPublic,
    ChannelBrief,
    ContactBrief,
    ConversationPage,
    ConversationPublic,
    LastMessage,
    MessagePage,
    MessagePublic,
    NamedLogo,
    OperatorBrief,
)
from helpline.conversations.waiting import escalation_of, language_of, waiting_clause, waiting_since
from helpline.engagement.windows import WindowName, inbound_bounds, window_state
from helpline.platform.api_contract import parse_int
from helpline.platform.clock import utcnow
from helpline.platform.db import BigId, UTCDateTime
from helpline.platform.errors import Invalid, NotFound
from helpline.platform.like import LIKE_ESCAPE, contains_pattern
from helpline.profiles.models import Event, Profile


def logo_url(attachment_id: int | None) -> str | None:
    return f"/api/v1/attachments/{attachment_id}/content" if attachment_id else None


def attachment_url(attachment_id: int) -> str:
    return f"/api/v1/attachments/{attachment_id}/content"


def present_conversation(
    conversation: Conversation,
    contact: Contact,
    channel: Channel,
    profile: Profile | None,
    event: Event | None,
    assignee: Operator | None,
    now: datetime | None = None,
) -> ConversationPublic:
    adapter = ADAPTERS.get(channel.kind)
    return ConversationPublic(
        id=conversation.id,
        status=conversation.status,
        handler=conversation.handler,
        priority=conversation.priority,
        tags=list(conversation.tags or []),
        contact=ContactBrief(id=contact.id, name=contact.name, avatar_url=contact.avatar_url),
        channel=ChannelBrief(id=channel.id, kind=channel.kind, name=channel.name),
        profile=NamedLogo(id=profile.id, name=profile.name, logo_url=logo_url(profile.logo_attachment_id))
        if profile
        else None,
        event=NamedLogo(id=event.id, name=event.name, logo_url=logo_url(event.logo_attachment_id)) if event else None,
        assignee=OperatorBrief(id=assignee.id, name=assignee.name) if assignee else None,
        last_message=LastMessage(
            preview=conversation.last_message_preview,
            author_kind=conversation.last_message_author,
            author_name=_author_name(conversation, contact),
            at=conversation.last_message_at,
        ),
        unread_count=conversation.unread_count,
        window=window_state(adapter.window if adapter else None, conversation.last_inbound_at, now or utcnow()),
        snoozed_until=conversation.snoozed_until,
        last_inbound_at=conversation.last_inbound_at,
        last_activity_at=conversation.last_activity_at,
        created_at=conversation.created_at,
        waiting_since=waiting_since(conversation),
        escalation=escalation_of(conversation),
        language=language_of(conversation, contact.attributes),
    )


def _author_name(conversation: Conversation, contact: Contact) -> str | None:
    if conversation.last_message_author == AuthorKind.contact.value:
        return contact.name
    if conversation.last_message_author == AuthorKind.operator.value:
        return conversation.last_message_author_name
    return None


def present_message(message: Message, operator: Operator | None, attachments: list[Attachment]) -> MessagePublic:
    return MessagePublic(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,
        author_kind=message.author_kind,
        operator=OperatorBrief(id=operator.id, name=operator.name) if operator else None,
        text=message.text,
        content_type=message.content_type,
        content=message.content or {},
        attachments=[
            AttachmentPublic(
                id=a.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                state=a.state,
                error=a.error,
                url=attachment_url(a.id),
            )
            for a in attachments
        ],
        delivery_state=message.delivery_state,
        error_code=message.error_code,
        error_reason=message.error_reason,
        provider_message_id=message.provider_message_id,
        provider_timestamp=message.provider_timestamp,
        occurred_at=message.occurred_at,
        reply_to_id=message.reply_to_id,
        client_id=message.client_id,
        created_at=message.created_at,
        updated_at=message.updated_at,
    )


def _conversation_rows() -> Select[Conversation, Contact, Channel, Profile, Event, Operator]:
    return (
        select(Conversation, Contact, Channel, Profile, Event, Operator)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .outerjoin(Profile, Profile.id == Channel.profile_id)
        .outerjoin(Event, Event.id == Conversation.event_id)
        .outerjoin(Operator, Operator.id == Conversation.assignee_id)
    )


Sort = Literal["recent", "waiting"]


@dataclass(frozen=True)
class ConversationFilters:
    """Every filter of the inbox list; empty tuples and None mean "any". Several values of one filter OR."""

    channel_kinds: tuple[str, ...] = ()
    channel_id: int | None = None
    profile_id: int | None = None
    event_id: int | None = None
    statuses: tuple[str, ...] = ()
    handler: str | None = None
    assignee: str | None = None  # "me" | "none" | an operator id
    q: str | None = None
    contact_id: int | None = None
    priorities: tuple[str, ...] = ()
    tag: str | None = None
    window: WindowName | None = None
    waiting: bool | None = None  # waiting for a human (conversations/waiting.py)


def encode_cursor(at: datetime | None, row_id: int, *, sort: Sort = "recent") -> str:
    """recent: "<iso>|<id>"; waiting: "w:<iso or empty>|<id>" (empty: past the last waiting row)."""
    stamp = at.isoformat() if at else ""
    raw = f"{stamp}|{row_id}" if sort == "recent" else f"w:{stamp}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: Sort = "recent") -> tuple[datetime | None, int]:
    """The (sort key, id) of the last row of the previous page; 422 bad_cursor when it is malformed or was
    made for the other sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if sort == "waiting":
            if not raw.startswith("w:"):
                raise ValueError("not a cursor of sort=waiting")
            raw = raw[2:]
        at, _, row_id = raw.partition("|")
        number = parse_int(row_id)
        if number is None:
            raise ValueError("cursor id is not a number")
        if sort == "waiting" and at == "":
            return None, number
        when = datetime.fromisoformat(at)
        # A hand-made cursor without a zone would reach the database as a naive time (a 500, not a 422).
        if when.tzinfo is None:
            raise ValueError("cursor time has no time zone")
        return when, number
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("malformed cursor", code="bad_cursor") from None


def window_clause(state: WindowName, now: datetime) -> ColumnElement[bool]:
    """Conversations whose reply window is in `state` at `now` (channel kinds without a window never match),
    with the thresholds of each kind's adapter through engagement.windows. Needs `Channel` joined."""
    parts: list[ColumnElement[bool]] = []
    for kind, adapter in sorted(ADAPTERS.items()):
        if adapter.window is None:
            continue
        after, until = inbound_bounds(adapter.window, state, now)
        bounds: list[ColumnElement[bool]] = []
        if after is not None:
            bounds.append(Conversation.last_inbound_at > after)
        if until is not None:
            bounds.append(Conversation.last_inbound_at <= until)
        in_range: ColumnElement[bool] = and_(*bounds)
        if state == "closed":
            in_range = or_(in_range, Conversation.last_inbound_at.is_(None))
        parts.append(and_(Channel.kind == kind, in_range))
    return or_(*parts) if parts else false()


def tag_clause(tag: str, dialect: str) -> ColumnElement[bool]:
    """Conversations carrying `tag` (tags are stored lower-cased); PostgreSQL uses the GIN index on
    tags::jsonb, SQLite looks inside the JSON array."""
    if dialect == "postgresql":
        # The value as a JSON string cast in SQL (renders as a plain literal too, for EXPLAIN in bench/).
        return cast(Conversation.tags, JSONB).contains(cast(literal(json.dumps([tag])), JSONB))
    items = func.json_each(Conversation.tags).table_valued("value")
    return exists().select_from(items).where(items.c.value == tag)


def _likely(clause: ColumnElement[bool], dialect: str) -> ColumnElement[bool]:
    """SQLite: `likely(clause)`, a planner hint that the clause keeps most rows. A filter on the channel's kind
    or profile made SQLite read every conversation of those channels through ix_conversations_channel_activity
    and sort them, instead of walking the sort's index and stopping at the page (5x slower deep pages)."""
    return func.likely(clause) if dialect == "sqlite" else clause


def filter_clauses(
    filters: ConversationFilters, principal: Principal, *, dialect: str, now: datetime
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of `filters` ("me" is `principal`), without the visibility clause; they need Channel
    and Contact joined as in `_conversation_rows` (Contact only for `q`). Raises Invalid for a bad assignee."""
    clauses: list[ColumnElement[bool]] = []
    if filters.channel_kinds:
        clauses.append(_likely(Channel.kind.in_(filters.channel_kinds), dialect))
    if filters.channel_id is not None:
        clauses.append(Conversation.channel_id == filters.channel_id)
    if filters.profile_id is not None:
        clauses.append(Channel.profile_id == filters.profile_id)
    if filters.event_id is not None:
        clauses.append(Conversation.event_id == filters.event_id)
    if filters.contact_id is not None:
        clauses.append(Conversation.contact_id == filters.contact_id)
    if filters.statuses:
        clauses.append(Conversation.status.in_(filters.statuses))
    if filters.priorities:
        clauses.append(Conversation.priority.in_(filters.priorities))
    if filters.tag:
        clauses.append(tag_clause(filters.tag.strip().lower(), dialect))
    if filters.window:
        clauses.append(window_clause(filters.window, now))
    if filters.waiting is True:
        clauses.append(waiting_clause())
    elif filters.waiting is False:
        clauses.append(~waiting_clause())
    if filters.handler:
        clauses.append(Conversation.handler == filters.handler)
    if filters.assignee == "me":
        clauses.append(Conversation.assignee_id == principal.operator_id)
    elif filters.assignee == "none":
        clauses.append(Conversation.assignee_id.is_(None))
    elif filters.assignee:
        if (assignee_id := parse_int(filters.assignee)) is None:
            raise Invalid("assignee must be me, none or an operator id")
        clauses.append(Conversation.assignee_id == assignee_id)
    if filters.q:
        clauses.append(or_(*search_clauses(filters.q)))
    return clauses


def search_clauses(q: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """`q` as (the contact's name contains it, one of the conversation's messages contains it), case-blind.
    Needs Contact joined for the first. `lower(…) LIKE '%…%'` is what PostgreSQL's trigram index on
    lower(contacts.name) answers (0012_read_indexes; one on lower(messages.text) is left out for its cost)."""
    pattern = contains_pattern(q.strip())
    matching_message = aliased(Message)
    return (
        func.lower(Contact.name).like(pattern, escape=LIKE_ESCAPE),
        exists().where(
            matching_message.conversation_id == Conversation.id,
            func.lower(matching_message.text).like(pattern, escape=LIKE_ESCAPE),
        ),
    )


def _at(value: datetime) -> ColumnElement[datetime]:
    """A time bound as the columns store it (SQLite keeps UTC naive), for a row comparison's right side."""
    return literal(value, UTCDateTime())


def _order(stmt: Select, sort: Sort) -> Select:  # type: ignore[type-arg]
    """recent: last_activity_at DESC, id DESC (index ix_conversations_activity). waiting: waiting_since ASC
    NULLS LAST, id ASC (index ix_conversations_waiting): the longest wait first, then the conversations
    nobody is waiting on, oldest first."""
    if sort == "recent":
        return stmt.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    return stmt.order_by(Conversation.waiting_since.asc().nulls_last(), Conversation.id.asc())


def _ranges(sort: Sort, cursor: str | None, dialect: str) -> list[list[ColumnElement[bool]]]:
    """The rows after the cursor's row in `sort` order, as one or two ranges of the sort's index (each a list
    of clauses to AND). Row comparisons, not `a < x OR (a = x AND id < y)`: PostgreSQL makes them the start
    of the index scan, so a deep page does not filter every row before the cursor."""
    if not cursor:
        return [[]]
    if sort == "recent":
        at, row_id = decode_cursor(cursor)
        if at is None:  # only a cursor of sort=waiting can lack a time; decode_cursor rejects those here
            raise Invalid("malformed cursor", code="bad_cursor")
        return [[tuple_(Conversation.last_activity_at, Conversation.id) < tuple_(_at(at), literal(row_id, BigId))]]
    since, row_id = decode_cursor(cursor, sort="waiting")
    if since is None:
        return [[Conversation.waiting_since.is_(None), Conversation.id > row_id]]
    # After a waiting row come the rest of the waiting rows, then every row nobody waits on (NULLS LAST):
    # two ranges for PostgreSQL, which cannot start a scan at an OR; SQLite's planner does, and pays for
    # the union instead (2.6 -> 5.8 ms a page at 10 k conversations).
    after_row = tuple_(Conversation.waiting_since, Conversation.id) > tuple_(_at(since), literal(row_id, BigId))
    if dialect == "sqlite":
        return [[or_(after_row, Conversation.waiting_since.is_(None))]]
    return [[after_row], [Conversation.waiting_since.is_(None)]]


def list_statement(
    filters: ConversationFilters,
    principal: Principal,
    *,
    sort: Sort,
    cursor: str | None,
    limit: int,
    dialect: str,
    now: datetime,
) -> Select[Conversation, Contact, Channel, Profile, Event, Operator]:
    """The SELECT of one page (limit + 1 rows, the extra one tells whether a next page exists)."""
    visible = principal.channel_filter(Conversation.channel_id)
    ranges = _ranges(sort, cursor, dialect)
    # PostgreSQL has a trigram index for names (0012_read_indexes); SQLite has none, and its OR stops at the
    # first page of matches by message text, so it keeps the OR.
    split_search = bool(filters.q) and dialect == "postgresql"
    # The page is chosen from `conversations` alone (joined to channels and contacts only where a filter
    # needs them), and only its rows are joined to what the list shows: with the joins in the same
    # query PostgreSQL priced a rare filter's index (then a sort of every match, joined) above walking
    # the sort's index through 10,000 rows (tag=legal: 34 ms instead of 1).
    # An OR (a search: the contact's name or a message; after a waiting row: more waiting rows or none) is
    # the union of one page of each part. Under an OR PostgreSQL can only walk the sort's index testing every
    # row (seconds for a rare search text); apart, each part is planned on its own: an index scan from its
    # start (a trigram index for a rare name), or the sort's index with an early stop for a common text.
    others = filter_clauses(replace(filters, q=None) if split_search else filters, principal, dialect=dialect, now=now)
    matches: list[tuple[ColumnElement[bool], bool]] = [(true(), bool(filters.q))]  # (clause, needs Contact)
    if filters.q and split_search:
        by_name, by_message = search_clauses(filters.q)
        matches = [(by_name, True), (by_message, False)]
    pages = []
    for match, needs_contact in matches:
        for bounds in ranges:
            part = select(Conversation.id).join(Channel, Channel.id == Conversation.channel_id)
            if needs_contact:
                part = part.join(Contact, Contact.id == Conversation.contact_id)
            part = part.where(visible, *others, match, *bounds)
            pages.append(_order(part, sort).limit(limit + 1).subquery())
    matching = union(*(select(page.c.id) for page in pages)) if len(pages) > 1 else select(pages[0].c.id)
    return _order(_conversation_rows().where(Conversation.id.in_(matching)), sort).limit(limit + 1)


async def list_conversations(
    session: AsyncSession,
    principal: Principal,
    filters: ConversationFilters,
    *,
    cursor: str | None,
    limit: int,
    sort: Sort = "recent",
) -> ConversationPage:
    """One page of the conversations `principal` may see, matching `filters`, in `sort` order; `next_cursor`
    continues it (keyset: stable while rows change). Raises Invalid (422) for a bad cursor or assignee."""
    now = utcnow()
    stmt = list_statement(
        filters, principal, sort=sort, cursor=cursor, limit=limit, dialect=session.get_bind().dialect.name, now=now
    )
    rows = (await session.execute(stmt)).all()
    items = [present_conversation(c, contact, ch, p, e, a, now=now) for c, contact, ch, p, e, a in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = (
            encode_cursor(last.last_activity_at, last.id)
            if sort == "recent"
            else encode_cursor(last.waiting_since, last.id, sort="waiting")
        )
    return ConversationPage(items=items, next_cursor=next_cursor)


async def get_visible_conversation(session: AsyncSession, principal: Principal, conversation_id: int) -> Conversation:
    """The conversation, or 404 when it does not exist or this operator may not see it (no leak of existence)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or not principal.can_see_channel(conversation.channel_id):
        raise NotFound("no such conversation")
    return conversation


async def conversation_public(session: AsyncSession, conversation_id: int) -> ConversationPublic:
    row = (await session.execute(_conversation_rows().where(Conversation.id == conversation_id))).one_or_none()
    if row is None:
        raise NotFound("no such conversation")
    return present_conversation(*row)


async def _attachments_by_message(session: AsyncSession, message_ids: list[int]) -> dict[int, list[Attachment]]:
    grouped: dict[int, list[Attachment]] = {}
    if not message_ids:
        return grouped
    result = await session.execute(
        select(Attachment).where(Attachment.message_id.in_(message_ids)).order_by(Attachment.id)
    )
    for attachment in result.scalars():
        grouped.setdefault(attachment.message_id or 0, []).append(attachment)
    return grouped


async def messages_public(session: AsyncSession, messages: list[Message]) -> list[MessagePublic]:
    operator_ids = {m.operator_id for m in messages if m.operator_id}
    operators: dict[int, Operator] = {}
    if operator_ids:
        operators = {
            o.id: o for o in (await session.execute(select(Operator).where(Operator.id.in_(operator_ids)))).scalars()
        }
    attachments = await _attachments_by_message(session, [m.id for m in messages])
    return [present_message(m, operators.get(m.operator_id or 0), attachments.get(m.id, [])) for m in messages]


async def message_public(session: AsyncSession, message: Message) -> MessagePublic:
    return (await messages_public(session, [message]))[0]


async def list_messages(
    session: AsyncSession, conversation_id: int, *, cursor: str | None, after: int | None, limit: int
) -> MessagePage:
    """Chronological by `occurred_at` (the provider's time for a customer's message, so one delivered late
    sits where it happened), then id. Without a cursor: the newest `limit` messages; `cursor` (the id of the
    oldest message of the previous page) pages to older ones by the (occurred_at, id) keyset; `after`
    returns the ones stored after a message id, in the order they were stored (catch-up after a reconnect:
    a late message is new to the client even though its place is further up). Raises Invalid
    (`bad_cursor`) for a cursor that is not a message of this conversation."""
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        stmt = stmt.where(Message.id > after).order_by(Message.id.asc()).limit(limit)
        rows = list((await session.execute(stmt)).scalars())
        return MessagePage(items=await messages_public(session, rows), next_cursor=None)
    if cursor:
        before = parse_int(cursor)
        anchor = (
            None
            if before is None
            else (
                await session.execute(
                    select(Message.occurred_at).where(Message.id == before, Message.conversation_id == conversation_id)
                )
            ).scalar_one_or_none()
        )
        if before is None or anchor is None:
            raise Invalid("malformed cursor", code="bad_cursor")
        # A row comparison: the bound of the index scan on (conversation_id, occurred_at, id), see _keyset.
        stmt = stmt.where(tuple_(Message.occurred_at, Message.id) < tuple_(_at(anchor), literal(before, BigId)))
    newest_first = stmt.order_by(Message.occurred_at.desc(), Message.id.desc()).limit(limit + 1)
    rows = list((await session.execute(newest_first)).scalars())
    more = len(rows) > limit
    rows = list(reversed(rows[:limit]))
    return MessagePage(
        items=await messages_public(session, rows), next_cursor=str(rows[0].id) if more and rows else None
    )
