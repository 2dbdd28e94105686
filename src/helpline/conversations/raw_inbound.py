"""Accept fast, ingest in batches: the durable inbound log between a webhook route and the database.

The route verifies the signature, checks that the body parses, and stores the raw verified body with ONE
INSERT (an outbox row of topic `ingest.raw`, unique on sha256(channel, body) so a redelivery waiting in the
log is stored once) before it answers 200. Workers claim many raw rows at once and ingest all their events
in one transaction (`ingest_raw_batch`), collecting the realtime frames, webhook events and routing rows
of the whole batch into one outbox row per topic. If that transaction fails, each row's events are stored
one transaction per event (`ingest_events`: unique-key races retried, a failing event parked with its
error), so one bad event never costs its siblings. A raw row that cannot even be parsed keeps its error,
is retried with backoff and ends dead (GET /api/v1/ingest/failures, `helpline_ingest_failures_total`);
the rows behind it are never held up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.channels.base import IdentityChanged, InboundEvent, InboundMessage
from helpline.channels.models import Channel
from helpline.conversations import batch_lookups
from helpline.conversations.actions import ROUTING_TOPIC
from helpline.conversations.ingest import IngestResult, apply_event, count_stored, ingest_events
from helpline.conversations.models import EarlyChange, Message
from helpline.platform import outbox
from helpline.platform.sanitize import clean_inbound
from helpline.platform.worker import BatchHandler, Job
from helpline.realtime.frames import TOPIC as REALTIME_TOPIC
from helpline.runtime import Runtime
from helpline.webhooks.events import FANOUT_TOPIC

log = logging.getLogger(__name__)

RAW_TOPIC = "ingest.raw"
# A batch that meets another worker's concurrent insert is tried again once before it is split up.
BATCH_ATTEMPTS = 2
# The rows a message causes that a batch writes once per batch, not once per message; frames first, so the
# operators' screens are the first thing a worker does after the commit.
BUNDLED_TOPICS = (REALTIME_TOPIC, FANOUT_TOPIC, ROUTING_TOPIC)

# channel → raw body → events; the channel's adapter parses (raises PayloadInvalid or anything else).
Parser = Callable[[Channel, bytes], list[InboundEvent]]


def raw_payload(channel_id: int, body: bytes) -> dict[str, Any]:
    """The log row's payload: the body as text when it is UTF-8 (it is JSON), else base64."""
    try:
        return {"channel_id": channel_id, "body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"channel_id": channel_id, "body_b64": base64.b64encode(body).decode("ascii")}


def raw_body(payload: dict[str, Any]) -> bytes:
    """Inverse of `raw_payload`. Raises ValueError on a row that holds no body."""
    if isinstance(payload.get("body"), str):
        return str(payload["body"]).encode("utf-8")
    try:
        return base64.b64decode(str(payload["body_b64"]), validate=True)
    except (KeyError, binascii.Error) as exc:
        raise ValueError("inbound log row without a body") from exc


def dedupe_key(channel_id: int, body: bytes) -> str:
    return hashlib.sha256(b"%d:" % channel_id + body).hexdigest()


async def accept_raw(runtime: Runtime, channel: Channel, body: bytes, *, keep_for: str | None = None) -> int | None:
    """Store a verified webhook body in the inbound log: one INSERT, committed before the caller answers.

    Returns the row id, or None when the same body for the same channel is already waiting. `keep_for`
    leases the new row to that caller (who ingests it at once, `ingest_now`) instead of waking a worker."""
    async with runtime.db.statements() as session:
        row_id = await outbox.insert_once(
            session,
            RAW_TOPIC,
            raw_payload(channel.id, body),
            dedupe_key=dedupe_key(channel.id, body),
            leased_by=keep_for,
            lease_seconds=runtime.settings.outbox_lease_seconds,
        )
    if keep_for is None and row_id is not None:
        outbox.wake_now()
    return row_id


async def ingest_now(runtime: Runtime, channel: Channel, body: bytes, parse: Parser) -> IngestResult:
    """Accept a body and ingest it before returning (for a caller that wants the stored message ids back):
    the same log row and the same batch code as the workers, for a batch of one. If this process dies
    before the row is settled, its lease runs out and a worker ingests it."""
    owner = f"inline:{uuid.uuid4().hex[:12]}"
    row_id = await accept_raw(runtime, channel, body, keep_for=owner)
    if row_id is None:
        # The same body is already waiting in the log (a quick redelivery): the database's unique keys
        # make ingesting it here as well harmless, and the caller gets the ids.
        return await ingest_events(runtime, channel, parse(channel, body))
    job = Job(id=row_id, payload=raw_payload(channel.id, body), attempt=1, last_attempt=False)
    outcome = await ingest_raw_batch(runtime, [job], parse)
    result = outcome[row_id]
    if isinstance(result, str):
        # Leave the row (and its lease) to the workers, which keep the error and retry.
        return IngestResult(failed=1)
    async with runtime.db.transaction() as session:
        await outbox.complete(session, [row_id], worker_id=owner)
    return result


async def ingest_raw_batch(runtime: Runtime, jobs: list[Job], parse: Parser) -> dict[int, IngestResult | str]:
    """Ingest the events of many raw rows: one transaction for all of them when it goes through, else each
    event on its own. Returns, per row id, what was stored, or the error that keeps the row for a retry.

    Raises only when the database is unreachable (then every row stays and is retried)."""
    outcome: dict[int, IngestResult | str] = {}
    parsed: list[tuple[Job, Channel, list[InboundEvent]]] = []
    channel_ids = {int(job.payload.get("channel_id") or 0) for job in jobs}
    async with runtime.db.reads() as session:
        rows = (await session.execute(select(Channel).where(Channel.id.in_(channel_ids)))).scalars()
        channels = {c.id: c for c in rows}
    for job in jobs:
        channel = channels.get(int(job.payload.get("channel_id") or 0))
        if channel is None:
            # Deleted since the body was accepted: its conversations went with it.
            log.warning("inbound log row %s: channel %s no longer exists", job.id, job.payload.get("channel_id"))
            outcome[job.id] = IngestResult()
            continue
        try:
            events: list[InboundEvent] = clean_inbound(parse(channel, raw_body(job.payload)))
        except Exception as exc:
            runtime.metrics.ingest_failures.labels(channel.kind).inc()
            log.error("inbound log row %s (channel %s) does not parse: %s", job.id, channel.id, exc, exc_info=exc)
            outcome[job.id] = f"{type(exc).__name__}: {exc}"[:2000]
            continue
        parsed.append((job, channel, events))
    if not parsed:
        return outcome
    for attempt in range(BATCH_ATTEMPTS):
        results = {job.id: IngestResult() for job, _, _ in parsed}
        try:
            await _ingest_batch(runtime, parsed, channel_ids, results)
            break
        except IntegrityError as exc:
            # Another worker stored one of these first (a new customer's first two messages split across
            # two batches): the next attempt's lookups find it. Retrying the whole batch is far cheaper than
            # one transaction per event.
            if attempt + 1 < BATCH_ATTEMPTS:
                log.info("batch of %d inbound rows met a concurrent insert; trying it again", len(parsed))
                continue
            failure: Exception = exc
        except Exception as exc:
            failure = exc
        log.info("batch of %d inbound rows fell back to one transaction per event: %s", len(parsed), failure)
        for job, channel, events in parsed:
            outcome[job.id] = await ingest_events(runtime, channel, events)
        return outcome
    for job, channel, _ in parsed:
        count_stored(runtime, channel, results[job.id])
        outcome[job.id] = results[job.id]
    return outcome


async def _ingest_batch(
    runtime: Runtime,
    parsed: list[tuple[Job, Channel, list[InboundEvent]]],
    channel_ids: set[int],
    results: dict[int, IngestResult],
) -> None:
    """All events of a batch in ONE transaction; raises (and stores nothing) when any of them fails."""
    async with runtime.db.transaction() as session:
        outbox.bundling(session, BUNDLED_TOPICS)
        # The batch's channels are loaded into this session, so presenting a conversation reads none again.
        fresh = await session.execute(select(Channel).where(Channel.id.in_(channel_ids)))
        local = {c.id: c for c in fresh.scalars()}
        seen = await _stored_message_ids(session, parsed)
        await batch_lookups.prefetch(
            session,
            (
                (local[channel.id], event)
                for _, channel, events in parsed
                for event in events
                if isinstance(event, InboundMessage) and (channel.id, event.provider_message_id) not in seen
            ),
        )
        for job, channel, events in parsed:
            for event in events:
                if isinstance(event, IdentityChanged):
                    # A number change moves an identity: from here on, look contacts up one by one.
                    batch_lookups.forget(session)
                known_new = False
                if isinstance(event, InboundMessage):
                    key = (channel.id, event.provider_message_id)
                    known_new = key not in seen
                    seen.add(key)
                await apply_event(runtime, session, local[channel.id], event, results[job.id], known_new=known_new)
        outbox.flush_bundles(session)


async def _stored_message_ids(
    session: AsyncSession, parsed: list[tuple[Job, Channel, list[InboundEvent]]]
) -> set[tuple[int, str]]:
    """(channel id, provider message id) of the batch's messages that are not plainly new: already stored,
    or with an unsend/edit that arrived before them (`customer_changes.with_early_changes`). Two queries per
    channel instead of two per message; the unique constraint still decides a race with another worker."""
    wanted: dict[int, set[str]] = {}
    for _, channel, events in parsed:
        for event in events:
            if isinstance(event, InboundMessage):
                wanted.setdefault(channel.id, set()).add(event.provider_message_id)
    found: set[tuple[int, str]] = set()
    for channel_id, ids in wanted.items():
        ordered = sorted(ids)
        for model in (Message, EarlyChange):
            query = select(model.provider_message_id).where(
                model.channel_id == channel_id, model.provider_message_id.in_(ordered)
            )
            found.update((channel_id, str(pmid)) for pmid in (await session.execute(query)).scalars())
    return found


def make_raw_batch_handler(runtime: Runtime, parse: Parser) -> BatchHandler:
    """The worker side: a claimed batch of `ingest.raw` rows → {row id: None (done) | error (retry)}."""

    async def handle(jobs: list[Job]) -> dict[int, str | None]:
        outcome = await ingest_raw_batch(runtime, jobs, parse)
        return {job_id: (value if isinstance(value, str) else None) for job_id, value in outcome.items()}

    return handle
