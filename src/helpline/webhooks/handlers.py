"""Webhook workers: expand an event into one delivery per subscriber, then POST each one, signed."""

from __future__ import annotations

import json
import time

import httpx
from sqlalchemy import select

from helpline.platform.clock import utcnow
from helpline.platform.crypto import sign_header
from helpline.platform.netguard import UnsafeTarget
from helpline.platform.outbox import enqueue
from helpline.platform.worker import BundleHandler, Handler, Job, RetryLater
from helpline.runtime import Runtime
from helpline.webhooks.events import DELIVER_TOPIC
from helpline.webhooks.models import Webhook, WebhookDelivery

SUBSCRIPTIONS_TTL_SECONDS = 2.0


class SubscriptionCache:
    """Which events any active webhook wants, re-read at most every couple of seconds.

    Most events have no subscriber; answering that from memory spares a write transaction per event. A
    webhook registered in another process starts receiving events within SUBSCRIPTIONS_TTL_SECONDS.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._events: set[str] = set()
        self._fetched_at = -SUBSCRIPTIONS_TTL_SECONDS

    async def anyone_wants(self, event: str) -> bool:
        now = time.monotonic()
        if now - self._fetched_at > SUBSCRIPTIONS_TTL_SECONDS:
            async with self.runtime.db.reads() as session:
                rows = (await session.execute(select(Webhook.events).where(Webhook.active.is_(True)))).scalars()
                self._events = {name for events in rows for name in events}
            self._fetched_at = now
        return event in self._events or "*" in self._events


def make_fanout_handler(runtime: Runtime) -> Handler:
    fanout_all = make_fanout_bundle_handler(runtime)

    async def fanout(job: Job) -> None:
        await fanout_all([job])

    return fanout


def make_fanout_bundle_handler(runtime: Runtime) -> BundleHandler:
    """A batch's webhook events (one bundled row) expanded in one transaction: the webhooks read once, the
    deliveries already made for these events found in one query, all new deliveries inserted at once.

    One delivery per (webhook, event), also when the row runs again: an event that is one part of a bundle
    is named by its part's `Job.source_id`."""
    subscriptions = SubscriptionCache(runtime)

    async def fanout_all(jobs: list[Job]) -> None:
        wanted = [job for job in jobs if await subscriptions.anyone_wants(str(job.payload["event"]))]
        if not wanted:
            return
        async with runtime.db.transaction() as session:
            hooks = list((await session.execute(select(Webhook).where(Webhook.active.is_(True)))).scalars())
            if not hooks:
                # Nobody subscribes (the common case): skip the already-delivered lookup.
                return
            made = await session.execute(
                select(WebhookDelivery.webhook_id, WebhookDelivery.source_event_id).where(
                    WebhookDelivery.source_event_id.in_([job.source_id for job in wanted])
                )
            )
            done = {(webhook_id, source_id) for webhook_id, source_id in made}
            deliveries = []
            for job in wanted:
                event = str(job.payload["event"])
                for hook in hooks:
                    if (event in hook.events or "*" in hook.events) and (hook.id, job.source_id) not in done:
                        deliveries.append(
                            WebhookDelivery(
                                webhook_id=hook.id,
                                event=event,
                                source_event_id=job.source_id,
                                payload={"event": event, "source_event_id": job.source_id, "data": job.payload["data"]},
                                status="pending",
                            )
                        )
            if not deliveries:
                return
            session.add_all(deliveries)
            await session.flush()
            for delivery in deliveries:
                enqueue(session, DELIVER_TOPIC, {"delivery_id": delivery.id})

    return fanout_all


def make_deliver_handler(runtime: Runtime) -> Handler:
    async def deliver(job: Job) -> None:
        delivery_id = int(job.payload["delivery_id"])
        async with runtime.db.reads() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.status != "pending":
                return
            hook = await session.get(Webhook, delivery.webhook_id)
            if hook is None:
                return
            body = json.dumps(
                {"id": delivery.id, "created_at": delivery.created_at.isoformat(), **delivery.payload},
                separators=(",", ":"),
            ).encode()
            secret = str(runtime.box.open(hook.secret)["secret"])
            url = hook.url
        headers = {
            "Content-Type": "application/json",
            "X-Helpline-Event": str(delivery.event),
            "X-Helpline-Delivery": str(delivery_id),
            "X-Helpline-Signature": sign_header(secret, body),
            "Idempotency-Key": f"helpline-webhook-{delivery_id}",
        }
        code: int | None = None
        error: str | None = None
        permanent = False
        try:
            response = await runtime.http.post(url, content=body, headers=headers)
            code = response.status_code
            if not response.is_success:
                error = f"HTTP {code}: {response.text[:200]}"
                permanent = 400 <= code < 500 and code not in (408, 409, 425, 429)
        except UnsafeTarget as exc:
            error, permanent = exc.message, True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        async with runtime.db.transaction() as session:
            row = await session.get(WebhookDelivery, delivery_id)
            if row is None:
                return
            row.attempts += 1
            row.response_code = code
            row.last_error = error
            if error is None:
                row.status, row.delivered_at = "succeeded", utcnow()
            elif permanent or job.last_attempt:
                row.status = "failed"
        if error is not None and not permanent and not job.last_attempt:
            raise RetryLater(error)

    return deliver
