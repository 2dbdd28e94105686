"""The fake Graph's records: its clock, tokens, assets (numbers, Pages, IG accounts), media and logged calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


class SandboxClock:
    """The sandbox's own time, which tests move forward to close windows and expire tokens and URLs."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def timestamp(self) -> int:
        return int(self.now().timestamp())

    def advance(self, delta: timedelta | float) -> None:
        self.offset += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)


@dataclass
class Token:
    """What `debug_token` knows of an access token; `me` is the asset that `/me/...` means with it."""

    value: str
    type: str = "SYSTEM_USER"  # USER | PAGE | SYSTEM_USER | APP
    scopes: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    target_ids: list[str] = field(default_factory=list)
    granular: dict[str, list[str]] = field(default_factory=dict)  # scope → target ids (granular_scopes)
    expires_at: int = 0  # 0 = never, as Meta reports system-user tokens
    issued_at: int = 0
    valid: bool = True
    me: str | None = None
    user_id: str = "100000000000001"


@dataclass
class WhatsAppNumber:
    phone_number_id: str
    waba_id: str
    display_phone_number: str


@dataclass
class Page:
    """A Facebook Page (kind messenger) or an Instagram professional account (kind instagram)."""

    id: str
    kind: str  # messenger | instagram
    name: str


@dataclass
class Media:
    id: str
    data: bytes
    mime_type: str
    sha256: str
    filename: str | None = None


@dataclass
class Call:
    """One request to the Graph fake, as received (tests assert on exact bodies)."""

    method: str
    path: str
    query: dict[str, str]
    token: str | None
    json: dict[str, Any] | None
    form: dict[str, str]
    status: int = 0
    response: Any = None


@dataclass
class Sent:
    """A message the business sent through the fake, and what happened to it."""

    product: str  # whatsapp | messenger | instagram
    asset_id: str
    recipient: str
    message_id: str
    body: dict[str, Any]
    at: datetime
    outcome: str = "accepted"  # accepted | failed (async, e.g. 131047)


@dataclass
class Injection:
    """Make the next `times` matching calls fail with this error (or, `asynchronous`, a failed status)."""

    code: int
    status: int | None
    subcode: int | None
    message: str
    times: int
    path_contains: str | None = None
    asynchronous: bool = False


@dataclass
class Delivery:
    """One webhook POST to Helpline: the exact bytes and headers, so a retry resends them unchanged."""

    body: bytes
    headers: dict[str, str]
    status: int | None = None
    attempts: int = 0
    error: str | None = None
