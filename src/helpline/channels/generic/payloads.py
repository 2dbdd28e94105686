"""Wire shapes of the generic API channel: what a system POSTs to us, and what we POST back."""

from __future__ import annotations

from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

from helpline.channels.locale import ConversationLocale
from helpline.conversations import provider_time
from helpline.platform.clock import utcnow
from helpline.platform.sanitize import is_blank


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ContactIn(_Strict):
    id: str = Field(min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    avatar_url: str | None = Field(default=None, max_length=1000)


class AttachmentIn(_Strict):
    filename: str = Field(default="file", min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    url: AnyHttpUrl | None = None
    data: str | None = Field(default=None, description="base64")

    @model_validator(mode="after")
    def _one_source(self) -> AttachmentIn:
        if (self.url is None) == (self.data is None):
            raise ValueError("give exactly one of url or data (base64)")
        return self


class MessageIn(_Strict):
    id: str = Field(min_length=1, max_length=255)
    text: str | None = Field(default=None, max_length=20_000)
    timestamp: datetime | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    reply_to: str | None = Field(default=None, max_length=255)

    @field_validator("timestamp")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        # Our own API answers a time too old to be a retry plainly (the client can fix it) rather than filing the
        # message in year 1. A time ahead of our clock is a skewed clock, not a reason to refuse the customer's
        # message: like every channel's, it is filed at the time received with the value kept
        # (conversations/provider_time.py).
        if value is None:
            return None
        now = utcnow()
        if provider_time.as_utc(value) < now - provider_time.API_MAX_AGE:
            raise ValueError(
                "timestamp must be within the last 7 days "
                f"(UTC now: {now.isoformat(timespec='seconds')}); leave it out to use the time received"
            )
        return provider_time.as_utc(value)

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        # Python's notion of space, which also counts the separators U+001C to U+001F that pydantic's trim keeps.
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _has_content(self) -> MessageIn:
        if is_blank(self.text) and not self.attachments:
            raise ValueError(
                "a message needs text or attachments (text of only spaces or invisible characters such as "
                "zero-width spaces is empty)"
            )
        return self


class InboundPayload(_Strict):
    contact: ContactIn
    message: MessageIn


class GenericSettings(_Strict, ConversationLocale):
    callback_url: AnyHttpUrl | None = Field(
        default=None, description="Helpline POSTs each reply here, signed with the channel secret."
    )
    bot_enabled: bool = True


class GenericCredentials(_Strict):
    secret: str | None = Field(default=None, min_length=16, max_length=200)
