"""Routes: attachment downloads — for operators who may see them, and by signed URL for providers."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import FileResponse

from helpline.attachments.disposition import content_disposition
from helpline.attachments.models import Attachment
from helpline.auth.dependencies import CurrentPrincipal, RuntimeDep
from helpline.conversations.models import Message
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import Forbidden, NotFound
from helpline.platform.filetypes import SNIFF_BYTES, is_inline_image
from helpline.runtime import Runtime

router = APIRouter(prefix="/attachments", tags=["attachments"])


def _file_response(runtime: Runtime, attachment: Attachment) -> FileResponse:
    """Served as a download, never rendered inline, unless it is a raster image whose bytes say so: an uploaded
    HTML or SVG file must not run in our origin."""
    if attachment.state != "stored" or not attachment.storage_key:
        raise NotFound("this attachment is not stored (yet)")
    path = runtime.blobs.path(attachment.storage_key)
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        raise NotFound("this attachment's file is missing") from None
    inline = is_inline_image(head, attachment.content_type)
    return FileResponse(
        path,
        media_type=attachment.content_type if inline else "application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(attachment.filename, inline=inline),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/{attachment_id}/content")
async def download(attachment_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> FileResponse:
    async with runtime.db.reads() as session:
        attachment = await session.get(Attachment, attachment_id)
        if attachment is None:
            raise NotFound("no such attachment")
        if attachment.message_id is not None:
            message = await session.get(Message, attachment.message_id)
            if message is None or not principal.can_see_channel(message.channel_id):
                raise NotFound("no such attachment")
    return _file_response(runtime, attachment)


@router.get("/{attachment_id}/public", include_in_schema=False)
async def signed_download(
    attachment_id: BoundedInt, expires: BoundedInt, sig: str, runtime: RuntimeDep
) -> FileResponse:
    path = f"/api/v1/attachments/{attachment_id}/public"
    if not runtime.signer.verify(path, expires, sig, int(time.time())):
        raise Forbidden("this link is invalid or has expired", code="bad_signature")
    async with runtime.db.reads() as session:
        attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("no such attachment")
    return _file_response(runtime, attachment)
