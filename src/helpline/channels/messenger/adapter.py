"""The Messenger adapter: Page webhooks and the Send API, with attachments uploaded ahead of the send."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import Field

from helpline.channels.base import DeliveryError, OutboundAttachment, OutboundMessage, ReplyWindow
from helpline.channels.limits import MB, MediaRule, SendLimits
from helpline.channels.meta.page import PageMessagingAdapter, attachment_type
from helpline.channels.meta.settings import ASSET_ID, MetaCredentials, MetaSettings


class MessengerSettings(MetaSettings):
    page_id: str = Field(pattern=ASSET_ID, description="routes webhooks (entry.id); sends as this Page")


class MessengerAdapter(PageMessagingAdapter):
    kind: ClassVar[str] = "messenger"
    # 24 h for anyone; up to 7 days for a person, with the HUMAN_AGENT tag (provider-contracts §3.2).
    window: ClassVar[ReplyWindow | None] = ReplyWindow(free_form=timedelta(hours=24), human_extension=timedelta(days=7))
    settings_model = MessengerSettings
    credentials_model = MetaCredentials
    asset_setting: ClassVar[str] = "page_id"
    # Text "under 2000 characters"; attachments of any type up to 25 MB (provider-contracts §3.2).
    limits: ClassVar[SendLimits] = SendLimits(
        provider="Messenger", max_text_length=1999, media=(MediaRule("file", ("*/*",), 25 * MB),)
    )

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # PSIDs are scoped to one Page: the same person has another id on another Page.
        return f"messenger:{channel_id}"

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
