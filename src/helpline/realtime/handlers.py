"""The realtime worker: publish committed frames through the broker to every API process."""

from __future__ import annotations

from helpline.platform.worker import Handler, Job
from helpline.runtime import Runtime


def make_publish_handler(runtime: Runtime) -> Handler:
    async def publish(job: Job) -> None:
        await runtime.broker.publish(job.payload)

    return publish
