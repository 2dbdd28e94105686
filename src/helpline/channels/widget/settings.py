"""What an admin configures for one website widget: look, allowed origins, limits, and the identity secret."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from helpline.channels.limits import MB
from helpline.channels.locale import ConversationLocale
from helpline.platform.rate_limits import parse_limit

DEFAULT_SESSION_RATE = "20/minute;300/hour"
DEFAULT_ADDRESS_RATE = "60/minute;1000/hour"


def normalize_origin(value: str) -> str:
    """`"HTTPS://Shop.Example.com/"` → `"https://shop.example.com"`; raises ValueError for anything that is not a
    bare web origin (scheme, host and optional port, RFC 6454 §6.1), since browsers send exactly that."""
    raw = value.strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin like https://www.example.com")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{value!r}: an origin has no path, query or credentials")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has an invalid port") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


class WidgetSettings(ConversationLocale):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    allowed_origins: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Web origins whose pages may embed this widget (https://www.example.com); the server's own "
        "base URL is always allowed.",
    )
    title: str = Field(default="Chat with us", min_length=1, max_length=80)
    greeting: str = Field(default="Hi! How can we help you today?", max_length=500)
    theme_color: str = Field(default="#1f6feb", pattern=r"^#[0-9a-fA-F]{6}$")
    avatar_url: AnyHttpUrl | None = None
    position: Literal["right", "left"] = "right"
    locale: Literal["auto", "en", "pt"] = "auto"
    pre_chat_form: Literal["off", "optional", "required"] = Field(
        default="optional", description="ask the visitor's name and e-mail before the first message"
    )
    email_channel_id: int | None = Field(
        default=None, ge=1, description="an e-mail channel that carries later replies to visitors who left an address"
    )
    email_after_minutes: int = Field(
        default=5, ge=0, le=1440, description="an operator's reply still unread this long goes out by e-mail too"
    )
    bot_enabled: bool = True
    max_message_chars: int = Field(default=5000, ge=1, le=20_000)
    max_upload_bytes: int = Field(default=10 * MB, ge=1024, le=25 * MB)
    session_rate: str = Field(default=DEFAULT_SESSION_RATE, max_length=100)
    address_rate: str = Field(default=DEFAULT_ADDRESS_RATE, max_length=100)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return sorted({normalize_origin(v) for v in values if v.strip()})

    @field_validator("session_rate", "address_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_limit(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate like '20/minute;300/hour'") from None
        return value


class WidgetCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    identity_secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=200,
        description="HMAC-SHA256 key the website signs its logged-in users' ids with (user_hash)",
    )
