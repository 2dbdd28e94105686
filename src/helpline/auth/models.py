"""Tables: operators and their login sessions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from helpline.platform.clock import utcnow
from helpline.platform.db import Base, BigId, IdMixin, TimestampMixin


class Role(enum.StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"

    @property
    def rank(self) -> int:
        return {"agent": 0, "supervisor": 1, "admin": 2}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class Operator(IdMixin, TimestampMixin, Base):
    __tablename__ = "operators"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.agent.value)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    last_login_at: Mapped[datetime | None]
    # Two-factor authentication (TOTP, RFC 6238). The secret is encrypted (platform.crypto.SecretBox); it is
    # set by enrolment and only counts once `totp_enabled`. `totp_last_step` is the last accepted time step: a
    # code is accepted once (RFC 6238 §5.2). An admin may require 2FA of an operator.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    two_factor_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The operator's own UI preferences (auth/preferences.py); null until first saved.
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class AuthSession(IdMixin, Base):
    """One login: the bearer token (stored as a digest) and the CSRF token paired with its cookie."""

    __tablename__ = "auth_sessions"

    operator_id: Mapped[int] = mapped_column(BigId, ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class RecoveryCode(IdMixin, Base):
    """A one-time second-factor code for a lost authenticator; stored as a SHA-256 digest, spent by `used_at`."""

    __tablename__ = "operator_recovery_codes"

    operator_id: Mapped[int] = mapped_column(BigId, ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginThrottle(Base):
    """Failed-login counters per e-mail address, known or not, so guessing is slowed without telling which exist."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
