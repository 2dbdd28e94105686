"""The Messenger adapter: Page webhooks and the Send API, with attachments uploaded ahead of the send."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import Field

from helpline.channels.base import DeliveryError, OutboundAttachment, OutboundMessage, ReplyWindow
from helpline.channels.meta.page import PageMessagingAdapter, attachment_type
from helpline.channels.meta.settings import ASSET_ID, MetaCredentials, MetaSettings

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


class MessengerSettings(MetaSettings):
    page_id: str = Field(pattern=ASSET_ID, description="routes webhooks (entry.id); sends as this Page")


class MessengerAdapter(PageMessagingAdapter):
    kind: ClassVar[str] = "messenger"
    # 24 h for anyone; up to 7 days for a person, with the HUMAN_AGENT tag (provider-contracts §3.2).
    window: ClassVar[ReplyWindow | None] = ReplyWindow(free_form=timedelta(hours=24), human_extension=timedelta(days=7))
    settings_model = MessengerSettings
    credentials_model = MetaCredentials
    asset_setting: ClassVar[str] = "page_id"
    text_limit: ClassVar[int] = 2000
    product: ClassVar[str] = "Messenger"

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # PSIDs are scoped to one Page: the same person has another id on another Page.
        return f"messenger:{channel_id}"

    def check_limits(self, message: OutboundMessage) -> None:
        super().check_limits(message)
        for attachment in message.attachments:
            if attachment.size > MAX_ATTACHMENT_BYTES:
                raise DeliveryError(
                    f"{attachment.filename} is {attachment.size} bytes; Messenger accepts files up to 25 MB",
                    retryable=False,
                    code="attachment_too_large",
                )

    def decorate(self, body: dict[str, Any], message: OutboundMessage) -> dict[str, Any]:
        # Echoed back with the echo: how we recognise our own sends even without HELPLINE_META_APP_ID.
        return {**body, "metadata": message.idempotency_key}

    async def attachment_payload(self, attachment: OutboundAttachment) -> dict[str, Any]:
        """Upload with `filedata` (POST /{page-id}/message_attachments), then send by attachment_id."""
        if attachment.data is None:
            return await super().attachment_payload(attachment)
        kind = attachment_type(attachment.content_type)
        answer = await self.graph.call(
            "POST",
            f"{self.config.settings.get('page_id')}/message_attachments",
            data={"message": json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": True}}})},
            files={"filedata": (attachment.filename, attachment.data, attachment.content_type)},
        )
        if not answer.get("attachment_id"):
            raise DeliveryError("Messenger attachment upload returned no id", retryable=True, code="upload_failed")
        return {"payload": {"attachment_id": str(answer["attachment_id"])}}
