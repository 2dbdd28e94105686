"""The attachment worker: fetch files that providers offer by URL or id, outside the webhook request."""

from __future__ import annotations

import httpx

from helpline.attachments.models import Attachment
from helpline.channels.actions import channel_config
from helpline.channels.models import Channel
from helpline.channels.registry import build_adapter
from helpline.conversations.events import message_changed
from helpline.conversations.models import Message
from helpline.platform.errors import HelplineError
from helpline.platform.worker import Handler, Job, RetryLater
from helpline.runtime import Runtime


def make_fetch_handler(runtime: Runtime) -> Handler:
    async def fetch(job: Job) -> None:
        attachment_id = int(job.payload["attachment_id"])
        async with runtime.db.reads() as session:
            attachment = await session.get(Attachment, attachment_id)
            if attachment is None or attachment.state != "pending" or not attachment.source_url:
                return
            message = await session.get(Message, attachment.message_id)
            channel = await session.get(Channel, message.channel_id) if message else None
            if channel is None:
                return
            config = channel_config(channel, runtime.box, runtime.settings)
            source_url = attachment.source_url
        adapter = build_adapter(config, runtime.http)
        error: str | None = None
        data = b""
        content_type = ""
        try:
            data, content_type = await adapter.fetch_attachment(source_url, runtime.settings.max_attachment_bytes)
            blob = runtime.blobs.put(data, attachment.content_type or content_type)
        except HelplineError as exc:
            error = exc.message  # too large, refused type, unsafe target: retrying will not help
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code < 500 and exc.response.status_code != 429:
                error = f"download failed with HTTP {exc.response.status_code}"
            elif not job.last_attempt:
                raise RetryLater(str(exc)) from exc
            else:
                error = str(exc)
        except httpx.HTTPError as exc:
            if not job.last_attempt:
                raise RetryLater(str(exc)) from exc
            error = f"download failed: {exc}"
        async with runtime.db.transaction() as session:
            row = await session.get(Attachment, attachment_id)
            if row is None or row.state != "pending":
                return
            if error is None:
                row.state, row.sha256, row.size, row.storage_key = (
                    "stored",
                    blob.sha256,
                    blob.size,
                    blob.storage_key,
                )
            else:
                row.state, row.error = "failed", error
            message = await session.get(Message, row.message_id)
            if message is not None:
                await message_changed(session, message, created=False)

    return fetch
