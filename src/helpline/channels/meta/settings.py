"""Channel settings and credentials shared by the Meta channels (validated when a channel is saved)."""

from __future__ import annotations

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from helpline.channels.locale import ConversationLocale


class MetaSettings(ConversationLocale):
    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=True, populate_by_name=True, coerce_numbers_to_str=True
    )

    bot_enabled: bool = True
    # Ad / referral source ids (click-to-WhatsApp ad id, m.me ref, Instagram ad id) → the event they promote.
    referral_events: dict[str, int] = Field(default_factory=dict)
    # Overrides HELPLINE_META_GRAPH_URL for this channel (e.g. https://graph.instagram.com for Instagram Login).
    graph_url: AnyHttpUrl | None = None


class MetaCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    access_token: str = Field(min_length=8, max_length=4000, description="system-user, Page or Instagram token")


ASSET_ID = r"^\d{1,32}$"
