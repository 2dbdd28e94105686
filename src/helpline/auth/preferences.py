"""An operator's own UI preferences: language, time zone, hour cycle, theme, sound, notifications, shortcuts,
saved views. Stored on the operator as JSON; the defaults apply to whatever was never set."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.auth.models import Operator
from helpline.platform.errors import NotFound

MAX_SAVED_VIEWS = 20


@lru_cache(maxsize=1)
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class SavedView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    query: str = Field(max_length=1000, description="the inbox URL's query string, e.g. status=open&window=closing")


class Preferences(BaseModel):
    """Every field has a default; PUT replaces the whole object."""

    model_config = ConfigDict(extra="forbid")

    locale: Literal["en", "pt-BR"] = "en"
    time_zone: str | None = Field(
        default=None, max_length=64, description="an IANA name (America/Sao_Paulo); null: the browser's"
    )
    hour_cycle: Literal["h12", "h23"] | None = Field(default=None, description="null: the locale's usual one")
    theme: Literal["system", "light", "dark"] = "system"
    sound: bool = Field(default=False, description="play a sound on hand-offs (opt-in)")
    notifications: bool = Field(default=False, description="browser notifications on hand-offs (opt-in)")
    shortcuts: bool = Field(default=True, description="single-key shortcuts")
    saved_views: list[SavedView] = Field(default_factory=list, max_length=MAX_SAVED_VIEWS)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        """Checked against the IANA database zoneinfo reads (system tzdata)."""
        if value is not None and value not in _known_time_zones():
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Lisbon")
        return value


def stored_preferences(operator: Operator) -> Preferences:
    """The saved preferences over the defaults; a stored value a newer version no longer accepts falls back
    to the defaults rather than failing the page."""
    try:
        return Preferences.model_validate(operator.preferences or {})
    except ValidationError:
        return Preferences()


async def save_preferences(session: AsyncSession, operator_id: int, preferences: Preferences) -> Preferences:
    operator = await session.get(Operator, operator_id)
    if operator is None:
        raise NotFound("no such operator")
    operator.preferences = preferences.model_dump(mode="json")
    return preferences
