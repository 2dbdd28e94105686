"""Persisting a webhook's parsed events: one transaction per event, duplicate races resolved by the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from helpline.channels.base import (
    DeliveryStatusChanged,
    DeliveryWatermark,
    InboundEvent,
    InboundMessage,
    InboundReaction,
    TemplateStatusChanged,
)
from helpline.channels.models import Channel
from helpline.conversations.actions import apply_delivery_status, receive_inbound
from helpline.conversations.early_status import EARLY_STATUS_TOPIC, early_status_payload
from helpline.conversations.provider_events import apply_reaction, apply_watermark
from helpline.engagement.templates import apply_template_status
from helpline.platform.outbox import enqueue
from helpline.runtime import Runtime


@dataclass
class IngestResult:
    message_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    statuses: int = 0


async def ingest_events(runtime: Runtime, channel: Channel, events: list[InboundEvent]) -> IngestResult:
    result = IngestResult()
    for item in events:
        if isinstance(item, InboundMessage):
            # Two deliveries of one new message (or of a new contact's first two messages) may race; the
            # loser's unique-constraint error is retried, and then finds what the winner stored.
            for attempt in range(3):
                try:
                    async with runtime.db.transaction() as session:
                        outcome = await receive_inbound(session, channel=channel, inbound=item, blobs=runtime.blobs)
                    break
                except IntegrityError:
                    if attempt == 2:
                        raise
            result.message_ids.append(outcome.message.id)
            if outcome.duplicate:
                result.duplicates += 1
            else:
                runtime.metrics.inbound_messages.labels(channel.kind).inc()
        elif isinstance(item, DeliveryStatusChanged):
            async with runtime.db.transaction() as session:
                if await apply_delivery_status(session, channel_id=channel.id, status=item) is None:
                    # The provider can report "sent" before our worker has stored the provider id it got
                    # back; keep the status and try again shortly instead of losing it.
                    enqueue(session, EARLY_STATUS_TOPIC, early_status_payload(channel.id, item), delay_seconds=2)
            result.statuses += 1
        elif isinstance(item, InboundReaction):
            async with runtime.db.transaction() as session:
                await apply_reaction(session, channel=channel, reaction=item)
        elif isinstance(item, DeliveryWatermark):
            async with runtime.db.transaction() as session:
                await apply_watermark(session, channel=channel, watermark=item)
            result.statuses += 1
        elif isinstance(item, TemplateStatusChanged):
            async with runtime.db.transaction() as session:
                await apply_template_status(session, channel_id=channel.id, change=item)
    return result
