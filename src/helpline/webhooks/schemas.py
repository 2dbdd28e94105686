"""API shapes for outgoing webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from helpline.platform.api_contract import BoundedInt
from helpline.webhooks.events import EVENTS


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS) - {"*"})
    if unknown:
        raise ValueError(f"unknown events {unknown}; known: {', '.join(EVENTS)} or *")
    return sorted(set(events))


class WebhookCreate(BaseModel):
    url: AnyHttpUrl
    events: list[str] = Field(min_length=1)
    description: str | None = Field(default=None, max_length=300)

    _events = field_validator("events")(_check_events)


class WebhookUpdate(BaseModel):
    url: AnyHttpUrl | None = None
    events: list[str] | None = None
    description: str | None = Field(default=None, max_length=300)
    active: bool | None = None

    @field_validator("events")
    @classmethod
    def _valid_events(cls, events: list[str] | None) -> list[str] | None:
        return _check_events(events) if events is not None else None


class WebhookPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: BoundedInt
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime


class WebhookWithSecret(WebhookPublic):
    secret: str


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: BoundedInt
    event: str
    status: str
    attempts: BoundedInt
    response_code: BoundedInt | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
