"""The Instagram Direct adapter: Instagram webhooks and the Send API, with Instagram's limits checked first."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import AliasChoices, Field

from helpline.channels.base import DeliveryError, OutboundMessage, ReplyWindow
from helpline.channels.meta.page import PageMessagingAdapter
from helpline.channels.meta.settings import ASSET_ID, MetaCredentials, MetaSettings

MB = 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
LIMITS = {"image": 8 * MB, "audio": 25 * MB, "video": 25 * MB}  # provider-contracts §4


class InstagramSettings(MetaSettings):
    ig_account_id: str = Field(
        pattern=ASSET_ID,
        validation_alias=AliasChoices("ig_account_id", "instagram_account_id"),
        description="the Instagram professional account id: routes webhooks (entry.id), sends as it",
    )
    page_id: str | None = Field(default=None, pattern=ASSET_ID, description="the linked Facebook Page, if any")


class InstagramAdapter(PageMessagingAdapter):
    kind: ClassVar[str] = "instagram"
    window: ClassVar[ReplyWindow | None] = ReplyWindow(free_form=timedelta(hours=24), human_extension=timedelta(days=7))
    settings_model = InstagramSettings
    credentials_model = MetaCredentials
    asset_setting: ClassVar[str] = "ig_account_id"
    text_limit: ClassVar[int] = 1000
    product: ClassVar[str] = "Instagram"

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # IGSIDs are scoped to one Instagram account.
        return f"instagram:{channel_id}"

    def tagging(self, message: OutboundMessage) -> dict[str, str]:
        # Instagram's body has no messaging_type inside the window; only the HUMAN_AGENT tag is ever added.
        tags = super().tagging(message)
        return tags if tags.get("tag") else {}

    def check_limits(self, message: OutboundMessage) -> None:
        super().check_limits(message)
        for attachment in message.attachments:
            base = attachment.content_type.split(";")[0].strip().lower()
            major = base.split("/")[0]
            if major not in LIMITS or (major == "image" and base not in IMAGE_TYPES):
                raise DeliveryError(
                    f"Instagram cannot send {attachment.filename} ({base}): it accepts PNG, JPEG or GIF images, "
                    "audio and video",
                    retryable=False,
                    code="attachment_type",
                )
            if attachment.size > LIMITS[major]:
                raise DeliveryError(
                    f"{attachment.filename} is {attachment.size / MB:.1f} MB; Instagram accepts {major} files up "
                    f"to {LIMITS[major] // MB} MB",
                    retryable=False,
                    code="attachment_too_large",
                )
