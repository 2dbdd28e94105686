"""The worker side of early customer changes: apply an unsend or edit whose message arrived alongside it."""

from __future__ import annotations

from helpline.channels.models import Channel
from helpline.conversations.customer_changes import apply_left_over_changes
from helpline.platform.worker import Handler, Job
from helpline.runtime import Runtime


def make_early_change_handler(runtime: Runtime) -> Handler:
    async def recheck(job: Job) -> None:
        async with runtime.db.transaction() as session:
            channel = await session.get(Channel, int(job.payload["channel_id"]))
            if channel is not None:
                await apply_left_over_changes(
                    session, channel=channel, provider_id=str(job.payload["provider_message_id"]), blobs=runtime.blobs
                )

    return recheck
