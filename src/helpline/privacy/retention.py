"""Retention (GDPR Art. 5(1)(e)): resolved conversations older than their channel's (or the global) period go.

A conversation is due when it is resolved and its last activity is older than the period of its channel, or the
global period when its channel has none. A legal hold on the conversation or on its contact suspends that. The
workers run it periodically; a dry run lists what would go and changes nothing. Each run is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.audit.actions import NO_ORIGIN, Origin, record
from helpline.conversations.models import Conversation, Message, Status
from helpline.privacy.erase import Purged, purge
from helpline.privacy.footprint import MIN_STRING, Footprint
from helpline.privacy.models import LegalHold, RetentionPolicy


@dataclass
class RetentionReport:
    dry_run: bool
    conversation_ids: list[int] = field(default_factory=list)
    purged: Purged = field(default_factory=Purged)


async def policies(session: AsyncSession) -> tuple[int | None, dict[int, int]]:
    """(global days or None, {channel id: days})."""
    rows = (await session.execute(select(RetentionPolicy))).scalars()
    global_days: int | None = None
    per_channel: dict[int, int] = {}
    for row in rows:
        if row.channel_id is None:
            global_days = row.days
        else:
            per_channel[row.channel_id] = row.days
    return global_days, per_channel


async def due(session: AsyncSession, now: datetime) -> list[int]:
    """Ids of resolved conversations past their retention period and under no legal hold."""
    global_days, per_channel = await policies(session)
    periods = []
    for channel_id, days in per_channel.items():
        periods.append(
            and_(Conversation.channel_id == channel_id, Conversation.last_activity_at < now - timedelta(days=days))
        )
    if global_days is not None:
        others = Conversation.channel_id.not_in(sorted(per_channel)) if per_channel else true()
        periods.append(and_(others, Conversation.last_activity_at < now - timedelta(days=global_days)))
    if not periods:
        return []
    held_conversations = select(LegalHold.conversation_id).where(LegalHold.conversation_id.is_not(None))
    held_contacts = select(LegalHold.contact_id).where(LegalHold.contact_id.is_not(None))
    rows = await session.execute(
        select(Conversation.id)
        .where(
            Conversation.status == Status.resolved.value,
            or_(*periods),
            Conversation.id.not_in(held_conversations),
            Conversation.contact_id.not_in(held_contacts),
        )
        .order_by(Conversation.id)
    )
    return list(rows.scalars())


async def conversations_footprint(session: AsyncSession, conversation_ids: list[int]) -> Footprint:
    found = Footprint(conversation_ids=set(conversation_ids))
    messages = await session.execute(
        select(Message.id, Message.text, Message.direction).where(Message.conversation_id.in_(conversation_ids))
    )
    for message_id, text, direction in messages:
        found.message_ids.add(message_id)
        if direction == "inbound" and text and len(text.strip()) >= MIN_STRING:
            found.strings.add(text.strip().lower())
    attachments = await session.execute(
        select(Attachment.id, Attachment.storage_key).where(Attachment.message_id.in_(sorted(found.message_ids)))
    )
    for attachment_id, key in attachments:
        found.attachment_ids.add(attachment_id)
        if key:
            found.storage_keys.add(key)
    return found


async def run_retention(
    session: AsyncSession,
    now: datetime,
    *,
    dry_run: bool,
    actor_id: int | None = None,
    origin: Origin = NO_ORIGIN,
    via: str | None = None,
) -> RetentionReport:
    """Purge (or, with `dry_run`, only list) the conversations `due` at `now`; audited either way."""
    report = RetentionReport(dry_run=dry_run, conversation_ids=await due(session, now))
    if report.conversation_ids and not dry_run:
        print_ = await conversations_footprint(session, report.conversation_ids)
        report.purged = await purge(session, print_, delete_contacts=False)
    if actor_id is None and via is None and not report.conversation_ids:
        return report  # a periodic pass that found nothing is not worth an audit entry
    record(
        session,
        operator_id=actor_id,
        action="privacy.retention_run",
        target_type="retention",
        target_id=None,
        details={
            "dry_run": dry_run,
            "conversations": len(report.conversation_ids),
            **report.purged.counts(),
            **({"via": via} if via else {}),
        },
        origin=origin,
    )
    return report
