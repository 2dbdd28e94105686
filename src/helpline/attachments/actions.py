"""Writes for attachments: store uploaded or received bytes, queue remote files for a worker to fetch."""

from __future__ import annotations

from pathlib import PurePath

from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.platform.outbox import enqueue
from helpline.platform.sanitize import clean_text
from helpline.platform.storage import BlobStore

FETCH_TOPIC = "attachments.fetch"


def safe_filename(name: str | None) -> str:
    """Keep only the last path component and printable characters: names end up in headers and the UI."""
    base = PurePath(clean_text(name or "file").replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"\r\n').strip()
    return (cleaned or "file")[:255]


def store_bytes(
    session: AsyncSession,
    blobs: BlobStore,
    *,
    data: bytes,
    filename: str | None,
    content_type: str,
    message_id: int | None,
) -> Attachment:
    blob = blobs.put(data, content_type)
    attachment = Attachment(
        message_id=message_id,
        filename=safe_filename(filename),
        content_type=content_type.split(";")[0].strip().lower() or "application/octet-stream",
        size=blob.size,
        sha256=blob.sha256,
        storage_key=blob.storage_key,
        state="stored",
    )
    session.add(attachment)
    return attachment


async def queue_fetch(
    session: AsyncSession, *, source_url: str, filename: str | None, content_type: str, message_id: int
) -> Attachment:
    attachment = Attachment(
        message_id=message_id,
        filename=safe_filename(filename),
        content_type=content_type,
        size=0,
        source_url=source_url,
        state="pending",
    )
    session.add(attachment)
    await session.flush()
    enqueue(session, FETCH_TOPIC, {"attachment_id": attachment.id})
    return attachment
