"""One validated settings class: environment variables prefixed HELPLINE_, optionally from a .env file."""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """Raised at start-up when the configuration is invalid; its message says what to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPLINE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str = ""
    redis_url: str = ""
    redis_prefix: str = "helpline"
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    allow_private_targets: bool = False

    # Attachments
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    allowed_attachment_types: list[str] = [
        "image/*",
        "audio/*",
        "video/*",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.*",
        "application/vnd.ms-excel",
        "application/octet-stream",
        # Forwarded mails and originals the email channel keeps (RFC 2046 §5.2.1); text, never rendered.
        "message/rfc822",
    ]
    max_request_bytes: int = Field(default=40 * 1024 * 1024, gt=0)
    # PostgreSQL connections per process: kept open (`db_pool_size`) plus opened for a peak and closed again
    # (`db_max_overflow`). Size the pool to the work: one per concurrent request that touches the database
    # plus the worker's batches; the server's max_connections must cover every process (docs/deploy.md).
    db_pool_size: int = Field(default=30, ge=1, le=1000)
    db_max_overflow: int = Field(default=30, ge=0, le=1000)

    # Workers
    run_workers: bool = True
    # `serve` runs the workers in a thread of its own process (0), or supervises this many `helpline worker`
    # child processes (real CPU parallelism on PostgreSQL; needs Redis so their frames reach the sockets).
    worker_processes: int = Field(default=0, ge=0, le=64)
    # Batches in flight per worker process (PostgreSQL; SQLite always 1): a batch is a chain of database
    # round trips, so a second one keeps the connection busy while the first waits (bench/RESULTS.md).
    worker_batches: int = Field(default=2, ge=1, le=16)
    worker_concurrency: int = Field(default=16, ge=1, le=256)
    worker_batch_size: int = Field(default=100, ge=1, le=1000)
    outbox_poll_seconds: float = Field(default=0.5, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    outbox_max_attempts: int = Field(default=12, ge=1)
    outbox_backoff_base_seconds: float = Field(default=2.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    http_timeout_seconds: float = Field(default=15.0, gt=0)

    # Auth
    session_hours: int = Field(default=12, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_seconds: int = Field(default=60, ge=1)
    # Failed logins per client IP (password spraying), in the `limits` notation: "30/minute;300/hour".
    login_ip_limit: str = "30/minute;300/hour"
    # Flood limits (docs/security.md, "Rate limits"), same notation; "" turns one off. Shared through Redis when
    # configured. Signed inbound requests per channel (over it: 429 + Retry-After, the provider retries):
    inbound_channel_limit: str = "3000/minute"
    # Customer messages per contact handed to the bot (over it: stored and shown, the bot does not answer):
    inbound_contact_limit: str = "20/minute;200/hour"
    # Bot replies per contact (over it: the bot hands the conversation to a person — stops bot loops):
    bot_reply_limit: str = "15/minute;100/hour"
    # A realtime ticket (POST /api/v1/realtime/tickets) opens one socket within this many seconds.
    realtime_ticket_seconds: int = Field(default=30, ge=1, le=300)

    # Security (docs/security.md)
    # Extra origins (scheme://host[:port]) whose pages may open the realtime socket; the base URL's always may.
    allowed_origins: list[str] = []
    # Peers (IP addresses or CIDR networks) whose X-Forwarded-For / X-Forwarded-Proto are believed.
    trusted_proxies: list[str] = []
    # /metrics: a bearer token and/or client addresses (IPs or CIDRs) allowed to scrape; empty = open.
    metrics_token: str = ""
    metrics_allow: list[str] = []
    # How often open sockets are re-checked against their session (logout, deactivation, role or channel change).
    realtime_recheck_seconds: float = Field(default=0.5, gt=0, le=5)
    # How often the workers apply the retention periods (docs/record-of-processing.md).
    retention_interval_seconds: float = Field(default=3600.0, gt=0)

    # Realtime
    realtime_buffer_size: int = Field(default=10_000, ge=100)

    # Bot (the AI front line)
    bot_match_high: float = Field(default=0.6, ge=0, le=1)
    bot_match_low: float = Field(default=0.3, ge=0, le=1)
    bot_article_threshold: float = Field(default=0.2, ge=0, le=1)
    bot_low_confidence_limit: int = Field(default=2, ge=1)
    bot_escalation_keywords: list[str] = []
    bot_escalate_tags: list[str] = ["vip"]
    bot_phone_region: str = "US"
    # The conversations' local time zone (IANA name), for "yesterday" / "ontem" in answers; a channel's
    # settings.time_zone overrides it.
    bot_time_zone: str = "UTC"
    # The company's language: the bot answers in it when neither the message, the conversation so far, the
    # contact's locale nor the channel's language says otherwise (en, pt, es, fr or it).
    bot_default_language: Literal["en", "pt", "es", "fr", "it"] = "en"

    # Optional LLM: any OpenAI-compatible chat endpoint
    llm_base_url: str = ""
    llm_api_key: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=8.0, gt=0)

    # Meta (WhatsApp Cloud API, Messenger, Instagram)
    meta_app_secret: str = ""
    meta_verify_token: str = ""
    meta_app_id: str = ""
    meta_graph_url: str = "https://graph.facebook.com"
    meta_graph_version: str = "v21.0"

    # Privacy pages (App Review needs a public privacy-policy URL)
    company_name: str = "Helpline"
    privacy_contact_email: str = ""
    privacy_policy_file: Path | None = None
    terms_file: Path | None = None

    # Web app: its ES modules joined into a few bundles at start-up (web/bundler.py; ui-guide §10: ≤ 25 requests
    # on first load). False serves every module on its own, as written, for debugging (docs/architecture.md).
    web_bundle: bool = True

    # Demo
    demo: bool = False
    demo_interval_seconds: float = Field(default=8.0, gt=0)
    # The demo's local mail server (aiosmtpd + a private Dovecot, else a simulated mailbox) and email channel.
    demo_mail: bool = True

    log_level: str = "INFO"

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("meta_graph_url")
    @classmethod
    def _graph_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite+aiosqlite:// and postgresql+asyncpg:// URLs are supported")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.split(":///", 1)[1]
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return [item.strip() for item in value]

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.startswith(("http://", "https://")) or item.rstrip("/").count("/") > 2:
                raise ValueError(f"{item!r} is not an origin like https://inbox.example.com")
        return [item.rstrip("/").lower() for item in value]

    @field_validator("login_ip_limit", "inbound_channel_limit", "inbound_contact_limit", "bot_reply_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from helpline.platform.rate_limits import parse_limit

        try:
            parse_limit(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit like '30/minute;300/hour'") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'helpline.db').resolve()}"
        if self.worker_processes and not self.redis_url:
            raise ValueError(
                "HELPLINE_WORKER_PROCESSES needs HELPLINE_REDIS_URL: a worker process reaches the operators' "
                "sockets through Redis (or set it to 0: the workers run in a thread of `serve`)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def websocket_origins(self) -> frozenset[str]:
        """Origins whose pages may open the realtime socket: the base URL's and HELPLINE_ALLOWED_ORIGINS."""
        parts = urlsplit(self.base_url)
        return frozenset({f"{parts.scheme}://{parts.netloc}".lower(), *self.allowed_origins})

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def ensure_secret_key(settings: Settings) -> str:
    """Return the secret key, generating it into the data dir on first start when it is not configured."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if path.exists():
        settings.secret_key = path.read_text().strip()
        return settings.secret_key
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    settings.secret_key = key
    return key


def load_settings(**overrides: object) -> Settings:
    """Build and validate the settings; turn pydantic's error into one readable message."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [f"  HELPLINE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None
    ensure_secret_key(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
