"""The Instagram Direct adapter: Instagram webhooks and the Send API, with Instagram's limits checked first."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import AliasChoices, Field

from helpline.channels.base import OutboundMessage, ReplyWindow
from helpline.channels.limits import MB, MediaRule, SendLimits
from helpline.channels.meta.page import PageMessagingAdapter
from helpline.channels.meta.settings import ASSET_ID, MetaCredentials, MetaSettings

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")


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
    profile_fields: ClassVar[str] = "name,username"
    # Text "< 1000 characters"; PNG/JPEG/GIF images up to 8 MB, audio and video up to 25 MB (provider-contracts §4).
    limits: ClassVar[SendLimits] = SendLimits(
        provider="Instagram",
        max_text_length=999,
        media=(
            MediaRule("image", IMAGE_TYPES, 8 * MB),
            MediaRule("audio", ("audio/*",), 25 * MB),
            MediaRule("video", ("video/*",), 25 * MB),
        ),
    )

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # IGSIDs are scoped to one Instagram account.
        return f"instagram:{channel_id}"

    def tagging(self, message: OutboundMessage) -> dict[str, str]:
        # Instagram's body has no messaging_type inside the window; only the HUMAN_AGENT tag is ever added.
        tags = super().tagging(message)
        return tags if tags.get("tag") else {}
