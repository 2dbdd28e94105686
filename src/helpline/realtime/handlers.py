"""The realtime worker: publish committed frames through the broker to every API process."""

from __future__ import annotations

from helpline.platform.worker import BundleHandler, Handler, Job
from helpline.runtime import Runtime


def make_publish_handler(runtime: Runtime) -> Handler:
    async def publish(job: Job) -> None:
        # `event_key` names the event, not the delivery: a frame published again after a worker crash (at
        # least once) carries the same key, so clients drop the repeat. `id` stays the replay sequence.
        await runtime.broker.publish({**job.payload, "event_key": job.event_key})

    return publish


def make_publish_bundle_handler(runtime: Runtime) -> BundleHandler:
    """A batch's frames (one bundled row) in one broker call: one Redis round trip instead of one per frame."""

    async def publish_all(jobs: list[Job]) -> None:
        await runtime.broker.publish_many([{**job.payload, "event_key": job.event_key} for job in jobs])

    return publish_all
