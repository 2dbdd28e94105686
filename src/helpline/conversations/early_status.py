"""Delivery statuses that arrive before the message they describe has its provider id: retried briefly."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from helpline.channels.base import DeliveryStatusChanged
from helpline.conversations.actions import apply_delivery_status
from helpline.platform.worker import Handler, Job, RetryLater
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

EARLY_STATUS_TOPIC = "delivery.early_status"
# About half a minute of retries (2 + 4 + 8 + 16 s): statuses of messages sent outside Helpline (another
# app on the same number) never find a message and must not linger in the outbox.
MAX_TRIES = 4


def early_status_payload(channel_id: int, status: DeliveryStatusChanged) -> dict[str, Any]:
    return {
        "channel_id": channel_id,
        "provider_message_id": status.provider_message_id,
        "state": status.state,
        "timestamp": status.timestamp.isoformat() if status.timestamp else None,
        "error_code": status.error_code,
        "error_reason": status.error_reason,
    }


def make_early_status_handler(runtime: Runtime) -> Handler:
    async def retry_status(job: Job) -> None:
        p = job.payload
        status = DeliveryStatusChanged(
            provider_message_id=str(p["provider_message_id"]),
            state=str(p["state"]),
            timestamp=datetime.fromisoformat(p["timestamp"]) if p.get("timestamp") else None,
            error_code=p.get("error_code"),
            error_reason=p.get("error_reason"),
        )
        async with runtime.db.transaction() as session:
            applied = await apply_delivery_status(session, channel_id=int(p["channel_id"]), status=status)
        if applied is None:
            if job.attempt < MAX_TRIES and not job.last_attempt:
                raise RetryLater(f"no message with provider id {status.provider_message_id} yet")
            log.info("dropping status %s for unknown message %s", status.state, status.provider_message_id)

    return retry_status
