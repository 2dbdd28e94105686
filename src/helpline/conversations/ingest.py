"""Persisting a webhook's parsed events: one transaction per event, duplicate races resolved by the database.

One bad event never costs its siblings: every event is cleaned of characters the database cannot store
(`platform/sanitize.py`), runs in its own transaction, and one that still fails is parked — kept in the
outbox with its error (topic `ingest.retry`, retried with backoff, then dead; listed at
GET /api/v1/ingest/failures, counted in `helpline_ingest_failures_total`) — so the provider gets its 200 and
does not redeliver the whole batch for days.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.channels.base import (
    DeliveryStatusChanged,
    DeliveryWatermark,
    IdentityChanged,
    InboundDeletion,
    InboundEdit,
    InboundEvent,
    InboundMessage,
    InboundReaction,
    TemplateStatusChanged,
)
from helpline.channels.event_codec import decode_event, encode_event
from helpline.channels.models import Channel
from helpline.conversations.actions import apply_delivery_status, receive_inbound
from helpline.conversations.customer_changes import apply_deletion, apply_edit, apply_number_change
from helpline.conversations.early_status import EARLY_STATUS_TOPIC, early_status_payload
from helpline.conversations.provider_events import apply_reaction, apply_watermark
from helpline.engagement.templates import apply_template_status
from helpline.platform.outbox import enqueue
from helpline.platform.sanitize import clean_inbound, clean_value
from helpline.platform.worker import Handler, Job
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

RETRY_TOPIC = "ingest.retry"
RETRY_DELAY_SECONDS = 30


@dataclass
class IngestResult:
    message_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    statuses: int = 0
    failed: int = 0


async def ingest_events(runtime: Runtime, channel: Channel, events: list[InboundEvent]) -> IngestResult:
    """Persist each event in its own transaction; an event that fails is parked, never raised.

    Raises only when even parking fails (the database is unreachable): then nothing was acknowledged and
    the provider's redelivery is what we want."""
    result = IngestResult()
    for raw in events:
        item: InboundEvent = clean_inbound(raw)  # the one inbound edge every channel passes
        try:
            await ingest_one(runtime, channel, item, result)
        except Exception as exc:
            await park(runtime, channel, {"event": encode_event(item)}, exc)
            result.failed += 1
    return result


async def park(runtime: Runtime, channel: Channel, payload: dict[str, Any], exc: BaseException) -> None:
    """Keep an event (or a raw webhook part that did not parse) with its error, to be retried by a worker."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    log.error("inbound event for channel %s parked: %s", channel.id, error, exc_info=exc)
    runtime.metrics.ingest_failures.labels(channel.kind).inc()
    async with runtime.db.transaction() as session:
        enqueue(
            session,
            RETRY_TOPIC,
            clean_value({"channel_id": channel.id, **payload, "error": error}),
            delay_seconds=RETRY_DELAY_SECONDS,
        )


async def ingest_one(runtime: Runtime, channel: Channel, item: InboundEvent, result: IngestResult) -> None:
    """One event in its own transaction. Two deliveries of one new message (or of a new contact's first two
    messages, or of one number change) may race; the loser's unique-constraint error is retried, and then
    finds what the winner stored."""
    for attempt in range(3):
        attempt_result = IngestResult()
        try:
            async with runtime.db.transaction() as session:
                await apply_event(runtime, session, channel, item, attempt_result)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    _merge(result, attempt_result)
    count_stored(runtime, channel, attempt_result)


def _merge(into: IngestResult, part: IngestResult) -> None:
    into.message_ids.extend(part.message_ids)
    into.duplicates += part.duplicates
    into.statuses += part.statuses
    into.failed += part.failed


def count_stored(runtime: Runtime, channel: Channel, result: IngestResult) -> None:
    stored = len(result.message_ids) - result.duplicates
    if stored:
        runtime.metrics.inbound_messages.labels(channel.kind).inc(stored)


async def apply_event(
    runtime: Runtime,
    session: AsyncSession,
    channel: Channel,
    item: InboundEvent,
    result: IngestResult,
    *,
    known_new: bool = False,
) -> None:
    """Store one cleaned event in the caller's transaction (which may hold a whole batch of them).
    `known_new`: see `receive_inbound`."""
    if isinstance(item, InboundMessage):
        outcome = await receive_inbound(
            session, channel=channel, inbound=item, blobs=runtime.blobs, known_new=known_new
        )
        result.message_ids.append(outcome.message.id)
        if outcome.duplicate:
            result.duplicates += 1
    elif isinstance(item, DeliveryStatusChanged):
        if await apply_delivery_status(session, channel_id=channel.id, status=item) is None:
            # The provider can report "sent" before our worker has stored the provider id it got
            # back; keep the status and try again shortly instead of losing it.
            enqueue(session, EARLY_STATUS_TOPIC, early_status_payload(channel.id, item), delay_seconds=2)
        result.statuses += 1
    elif isinstance(item, InboundReaction):
        await apply_reaction(session, channel=channel, reaction=item)
    elif isinstance(item, DeliveryWatermark):
        await apply_watermark(session, channel=channel, watermark=item)
        result.statuses += 1
    elif isinstance(item, TemplateStatusChanged):
        await apply_template_status(session, channel_id=channel.id, change=item)
    elif isinstance(item, InboundDeletion):
        await apply_deletion(session, channel=channel, deletion=item, blobs=runtime.blobs)
    elif isinstance(item, InboundEdit):
        await apply_edit(session, channel=channel, edit=item)
    elif isinstance(item, IdentityChanged):
        await apply_number_change(session, channel=channel, change=item)


def make_retry_handler(
    runtime: Runtime, parse_part: Callable[[Channel, dict[str, Any]], Awaitable[list[InboundEvent]]]
) -> Handler:
    """The worker side of `park`: ingest the kept event again (or parse the kept raw part, then ingest).

    A failure raises, so the outbox retries with backoff and finally marks the row dead with its error."""

    async def retry(job: Job) -> None:
        async with runtime.db.reads() as session:
            channel = await session.get(Channel, int(job.payload["channel_id"]))
        if channel is None:
            return
        if isinstance(job.payload.get("event"), dict):
            events = [decode_event(job.payload["event"])]
        else:
            events = await parse_part(channel, dict(job.payload.get("part") or {}))
        result = IngestResult()
        for event in events:
            await ingest_one(runtime, channel, clean_inbound(event), result)

    return retry
