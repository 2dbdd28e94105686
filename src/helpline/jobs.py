"""Which handler runs each outbox topic, and the periodic chores; used by `serve` and `worker` alike."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from helpline.attachments.actions import FETCH_TOPIC
from helpline.attachments.handlers import make_fetch_handler
from helpline.bot.end_action import make_end_action_handler
from helpline.bot.interface import FrontLine
from helpline.bot.pipeline import END_ACTION_TOPIC, front_line_for
from helpline.channels.api import channel_parser
from helpline.channels.meta.api import reparse_part
from helpline.channels.receivers import supervise_receivers
from helpline.channels.widget.email_copy import send_email_copies
from helpline.contacts.profiles import PROFILE_TOPIC, make_profile_handler
from helpline.conversations.actions import DELIVERY_TOPIC, ROUTING_TOPIC
from helpline.conversations.customer_changes import EARLY_CHANGE_TOPIC
from helpline.conversations.early_changes_job import make_early_change_handler
from helpline.conversations.early_status import EARLY_STATUS_TOPIC, make_early_status_handler
from helpline.conversations.handling import wake_snoozed
from helpline.conversations.ingest import RETRY_TOPIC, make_retry_handler
from helpline.conversations.raw_inbound import RAW_TOPIC, make_raw_batch_handler
from helpline.delivery.handlers import make_delivery_handler
from helpline.platform import outbox, wakeups
from helpline.platform.clock import utcnow
from helpline.platform.worker import BatchHandler, Handler, OutboxWorker
from helpline.privacy.actions import remove_blobs
from helpline.privacy.retention import run_retention
from helpline.realtime.frames import TOPIC as REALTIME_TOPIC
from helpline.realtime.handlers import make_publish_bundle_handler, make_publish_handler
from helpline.routing.handlers import make_routing_handler
from helpline.runtime import Runtime
from helpline.webhooks.events import DELIVER_TOPIC, FANOUT_TOPIC
from helpline.webhooks.handlers import make_deliver_handler, make_fanout_bundle_handler, make_fanout_handler

log = logging.getLogger(__name__)

WORKER_TASK = "outbox-worker"


def handlers(runtime: Runtime, front_line: FrontLine | None = None) -> dict[str, Handler]:
    return {
        REALTIME_TOPIC: make_publish_handler(runtime),
        # The bot front line by default; SilentFrontLine (bot.interface) when a caller wants no bot.
        ROUTING_TOPIC: make_routing_handler(runtime, front_line or front_line_for(runtime)),
        DELIVERY_TOPIC: make_delivery_handler(runtime),
        FETCH_TOPIC: make_fetch_handler(runtime),
        FANOUT_TOPIC: make_fanout_handler(runtime),
        DELIVER_TOPIC: make_deliver_handler(runtime),
        EARLY_STATUS_TOPIC: make_early_status_handler(runtime),
        EARLY_CHANGE_TOPIC: make_early_change_handler(runtime),
        END_ACTION_TOPIC: make_end_action_handler(runtime),
        PROFILE_TOPIC: make_profile_handler(runtime),
        RETRY_TOPIC: make_retry_handler(runtime, lambda channel, part: reparse_part(runtime, channel, part)),
    }


def batch_handlers(runtime: Runtime) -> dict[str, BatchHandler]:
    return {RAW_TOPIC: make_raw_batch_handler(runtime, channel_parser(runtime))}


def build_worker(runtime: Runtime, front_line: FrontLine | None = None) -> OutboxWorker:
    s = runtime.settings
    return OutboxWorker(
        runtime.db,
        handlers(runtime, front_line),
        batch_handlers=batch_handlers(runtime),
        # A batch's frames in one Redis call; its webhook events expanded in one transaction.
        bundle_handlers={
            REALTIME_TOPIC: make_publish_bundle_handler(runtime),
            FANOUT_TOPIC: make_fanout_bundle_handler(runtime),
        },
        # Frames keep their order within a batch, so a client sees "created" before "updated".
        ordered_topics=frozenset({REALTIME_TOPIC}),
        concurrency=s.worker_concurrency,
        batch_size=s.worker_batch_size,
        poll_seconds=s.outbox_poll_seconds,
        lease_seconds=s.outbox_lease_seconds,
        max_attempts=s.outbox_max_attempts,
        backoff_base=s.outbox_backoff_base_seconds,
        backoff_max=s.outbox_backoff_max_seconds,
    )


async def periodic_chores(runtime: Runtime, interval: float = 15.0) -> None:
    """Wake snoozed conversations, purge by retention, send the website chat's e-mail copies of unread replies,
    refresh outbox gauges; safe to run in every process."""
    retention_at: datetime | None = None
    while True:
        try:
            async with runtime.db.transaction() as session:
                await wake_snoozed(session, utcnow())
            retention_at = await retention_chore(runtime, retention_at)
            await send_email_copies(runtime)
            async with runtime.db.sessions() as session:
                stats = await outbox.stats(session)
            runtime.metrics.record_outbox(stats)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic chores failed")
        await asyncio.sleep(interval)


async def retention_chore(runtime: Runtime, last: datetime | None) -> datetime | None:
    """Purge conversations past their retention period when HELPLINE_RETENTION_INTERVAL_SECONDS passed since
    `last`; returns when it last ran."""
    now = utcnow()
    if last is not None and (now - last).total_seconds() < runtime.settings.retention_interval_seconds:
        return last
    async with runtime.db.transaction() as session:
        report = await run_retention(session, now, dry_run=False)
    remove_blobs(runtime.blobs, report.purged.orphaned_blobs)
    if report.conversation_ids:
        log.info("retention purged %d conversations", len(report.conversation_ids))
    return now


def start_workers(runtime: Runtime, front_line: FrontLine | None = None) -> OutboxWorker:
    """Spawn the outbox workers (`HELPLINE_WORKER_BATCHES` of them, one batch in flight each, sharing their
    handlers) and the periodic chores into `runtime`'s tasks; returns the first worker."""
    worker = build_worker(runtime, front_line)
    # SQLite has one writer at a time: a second batch in flight would only wait for the first one's lock.
    batches = 1 if not runtime.db.is_postgres else runtime.settings.worker_batches
    workers = [worker, *(worker.sibling() for _ in range(batches - 1))]
    for each in workers:
        runtime.spawn(each.run(), WORKER_TASK)
    runtime.spawn(periodic_chores(runtime), "periodic-chores")
    # Mailboxes and other channels that must be read: one reader per channel across processes (a lease).
    runtime.spawn(supervise_receivers(runtime), "channel-receivers")
    if runtime.db.is_postgres:
        # Rows committed by other processes (the API processes' `wakeups.Notifier`) wake these workers at once.

        def wake_all() -> None:
            for each in workers:
                each.wake()

        runtime.spawn(wakeups.listen(runtime.db, wake_all), "outbox-listen")
    runtime.workers = workers
    return worker


async def run_workers_until(
    runtime: Runtime,
    stop: asyncio.Event,
    front_line: FrontLine | None = None,
    *,
    stop_timeout: float = 30.0,
    ready: Callable[[OutboxWorker], None] | None = None,
) -> None:
    """Run the workers of `runtime` until `stop` is set, then let the batch in progress finish (at most
    `stop_timeout` seconds; rows still leased then are taken again after their lease) and close `runtime`.
    `ready`, when given, gets the worker once it runs."""
    try:
        worker = start_workers(runtime, front_line)
        worker_tasks = {task for task in runtime.tasks if task.get_name() == WORKER_TASK}
        if ready is not None:
            ready(worker)
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({stopping, *worker_tasks}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        for each in runtime.workers:
            each.stop()
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*worker_tasks)), stop_timeout)
        except TimeoutError:
            log.warning("the outbox workers did not finish their batches in %ss; stopping them", stop_timeout)
        except Exception:
            log.exception("an outbox worker ended with an error")
    finally:
        await runtime.close()
