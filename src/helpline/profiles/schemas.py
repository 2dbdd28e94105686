"""API shapes for profiles and events."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from helpline.platform.api_contract import BoundedInt


class ProfileCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class ProfileUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class ProfilePublic(BaseModel):
    id: BoundedInt
    name: str
    description: str | None
    logo_url: str | None
    created_at: datetime


class EventCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    profile_id: BoundedInt | None = None
    description: str | None = Field(default=None, max_length=5000)
    starts_on: date | None = None
    ends_on: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> EventCreate:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class EventUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    profile_id: BoundedInt | None = None
    description: str | None = Field(default=None, max_length=5000)
    starts_on: date | None = None
    ends_on: date | None = None


class EventPublic(BaseModel):
    id: BoundedInt
    name: str
    profile_id: BoundedInt | None
    description: str | None
    starts_on: date | None
    ends_on: date | None
    logo_url: str | None
    created_at: datetime
