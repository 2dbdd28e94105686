"""WhatsApp channel settings and credentials."""

from __future__ import annotations

from pydantic import Field

from helpline.channels.meta.settings import ASSET_ID, MetaCredentials, MetaSettings


class WhatsAppSettings(MetaSettings):
    phone_number_id: str = Field(pattern=ASSET_ID, description="routes webhooks; sends from this number")
    waba_id: str | None = Field(default=None, pattern=ASSET_ID, description="WhatsApp Business Account: templates")
    display_phone_number: str | None = Field(default=None, max_length=32)
    mark_read: bool = Field(default=True, description="send read receipts when an operator replies")


class WhatsAppCredentials(MetaCredentials):
    pass
