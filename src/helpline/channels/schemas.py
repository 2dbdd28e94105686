"""API shapes for channels."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from helpline.platform.api_contract import BoundedInt


class ChannelCreate(BaseModel):
    kind: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    profile_id: BoundedInt | None = None
    default_event_id: BoundedInt | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] = Field(default_factory=dict, description="write-only; encrypted at rest")
    member_ids: list[BoundedInt] = Field(default_factory=list)


class ChannelUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    profile_id: BoundedInt | None = None
    default_event_id: BoundedInt | None = None
    settings: dict[str, Any] | None = None
    credentials: dict[str, Any] | None = Field(default=None, description="replaces the stored credentials")
    member_ids: list[BoundedInt] | None = None
    status: str | None = Field(default=None, pattern="^(active|disabled)$")


class ChannelPublic(BaseModel):
    id: BoundedInt
    kind: str
    name: str
    profile_id: BoundedInt | None
    default_event_id: BoundedInt | None
    settings: dict[str, Any]
    status: str
    status_reason: str | None
    member_ids: list[BoundedInt]
    inbound_url: str | None
    created_at: datetime


class DoctorCheck(BaseModel):
    id: str = Field(
        description="stable: base_url, app_secret, verify_token, privacy_policy, data_deletion_callback, "
        "webhook_verification, access_token, token_valid, permissions, webhook_subscription"
    )
    title: str
    status: Literal["ok", "warn", "fail"]
    message: str = Field(description="what was found")
    fix: str = Field(description="what to do about it, in words; empty when ok")


class DoctorReport(BaseModel):
    channel_id: int
    checks: list[DoctorCheck]
    passed: int
    warnings: int
    failed: int


class ChannelWithSecrets(ChannelPublic):
    secrets: dict[str, Any] = Field(description="shown once: store them now")
