"""API shapes for contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from helpline.conversations.schemas import OperatorBrief


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    email: str | None
    phone: str | None
    avatar_url: str | None
    attributes: dict[str, Any]
    merged_into_id: int | None
    created_at: datetime


class ContactUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    avatar_url: str | None = Field(default=None, max_length=1000)
    attributes: dict[str, Any] | None = None


class IdentityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    provider_id: str
    created_at: datetime


class MergeRequest(BaseModel):
    merge_contact_id: int = Field(description="this contact is folded into the one in the URL")


class NoteCreate(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class NotePublic(BaseModel):
    id: int
    contact_id: int
    text: str
    author: OperatorBrief | None = Field(description="null when the author's account was deleted")
    created_at: datetime


class ContactPage(BaseModel):
    items: list[ContactPublic]
    next_cursor: str | None
