"""API shapes for authentication and operators."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from helpline.auth.models import Role
from helpline.auth.passwords import MIN_LENGTH
from helpline.platform.api_contract import BoundedInt


class LoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_at: datetime
    csrf_token: str
    operator: OperatorPublic
    # Only when this login also finished a required two-factor enrolment: shown once, keep them safe.
    recovery_codes: list[str] | None = None


class TwoFactorLogin(BaseModel):
    """The second step of a login: the challenge from the 401 `two_factor_required` answer and a 6-digit code
    from the authenticator app (or a recovery code "xxxxx-xxxxx")."""

    challenge: str = Field(min_length=5, max_length=200)
    code: str = Field(min_length=6, max_length=20)


class TwoFactorChallenge(BaseModel):
    challenge: str = Field(min_length=5, max_length=200)


class TwoFactorSetup(BaseModel):
    """A fresh TOTP secret (base32) and the otpauth:// URI authenticator apps import."""

    secret: str
    otpauth_uri: str


class TwoFactorCode(BaseModel):
    code: str = Field(min_length=6, max_length=20)


class TwoFactorDisable(BaseModel):
    password: str = Field(min_length=1, max_length=1024)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class TwoFactorStatus(BaseModel):
    enabled: bool
    required: bool
    recovery_codes_left: int


class OperatorPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: BoundedInt
    email: str
    name: str
    role: Role
    active: bool
    avatar_url: str | None = None
    channel_ids: list[BoundedInt] = []
    created_at: datetime
    last_login_at: datetime | None = None
    two_factor_enabled: bool = Field(default=False, validation_alias=AliasChoices("two_factor_enabled", "totp_enabled"))
    two_factor_required: bool = False


class AdminName(BaseModel):
    name: str


class MePublic(OperatorPublic):
    admins: list[AdminName] = Field(
        default=[], description="active admins, by name: who can add an agent without channels to one"
    )


class OperatorCreate(BaseModel):
    # Deliberately lenient: internal domains such as company.local are common for staff accounts.
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_LENGTH, max_length=1024)
    role: Role = Role.agent
    channel_ids: list[BoundedInt] = []


class OperatorUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=MIN_LENGTH, max_length=1024)
    role: Role | None = None
    active: bool | None = None
    avatar_url: str | None = Field(default=None, max_length=1000)
    channel_ids: list[BoundedInt] | None = None
    # Admins may require two-factor authentication of an operator (who then enrols at the next login).
    two_factor_required: bool | None = None


LoginResponse.model_rebuild()
