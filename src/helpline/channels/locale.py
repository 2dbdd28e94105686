"""A channel's language and time zone: what the bot answers in, and reads "yesterday" against, when the
customer's own words and contact do not say (part of every channel kind's settings)."""

from __future__ import annotations

import zoneinfo
from typing import Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, field_validator, model_serializer


class ConversationLocale(BaseModel):
    language: Literal["en", "pt", "es", "fr", "it"] | None = Field(
        default=None,
        description="the bot's language on this channel when a message shows none (else HELPLINE_BOT_DEFAULT_LANGUAGE)",
    )
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone of this channel's customers, e.g. America/Sao_Paulo (else HELPLINE_BOT_TIME_ZONE)",
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as America/Sao_Paulo") from None
        return value

    @model_serializer(mode="wrap")
    def _unset_left_out(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Stored settings stay as the admin wrote them: no `"language": null` in every channel.
        data: dict[str, Any] = handler(self)
        for key in ("language", "time_zone"):
            if data.get(key) is None:
                data.pop(key, None)
        return data
