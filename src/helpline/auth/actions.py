"""Writes for authentication and operators: login with throttling, logout, create and update operators."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import NO_ORIGIN, Origin, record
from helpline.auth.models import AuthSession, Operator, Role
from helpline.auth.passwords import hash_password, verify_password
from helpline.auth.permissions import Principal
from helpline.auth.schemas import OperatorCreate, OperatorUpdate
from helpline.channels.models import Channel, ChannelMember
from helpline.platform.clock import utcnow
from helpline.platform.crypto import token_digest
from helpline.platform.errors import Conflict, Invalid, NotFound, Unauthorized


@dataclass(frozen=True)
class LoginResult:
    token: str
    session: AuthSession
    operator: Operator


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    lock_seconds: int
    session_hours: int


def normalize_email(email: str) -> str:
    # One spelling for the lookup and the throttle, or " Ana@x" would get a fresh failure counter.
    return email.strip().lower()


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of checking an e-mail and password: the operator when it exists, and why it failed if it did
    (`bad_credentials` — the same for unknown e-mails — or `deactivated`)."""

    operator: Operator | None
    failure: str | None


async def check_password(session: AsyncSession, *, email: str, password: str) -> PasswordCheck:
    """Verify the password (argon2; a dummy hash for unknown e-mails so timing says nothing)."""
    operator = (await session.execute(select(Operator).where(Operator.email == email))).scalar_one_or_none()
    if not verify_password(operator.password_hash if operator else None, password) or operator is None:
        return PasswordCheck(operator, "bad_credentials")
    if not operator.active:
        return PasswordCheck(operator, "deactivated")
    return PasswordCheck(operator, None)


def password_failure(code: str) -> Unauthorized:
    if code == "deactivated":
        return Unauthorized("this account is deactivated", code="deactivated")
    return Unauthorized("wrong e-mail or password", code="bad_credentials")


async def start_session(
    session: AsyncSession, operator: Operator, policy: LoginPolicy, origin: Origin = NO_ORIGIN
) -> LoginResult:
    """Create the login session (bearer token, CSRF token) once every factor has been checked."""
    token = "hl_" + secrets.token_urlsafe(32)
    auth_session = AuthSession(
        operator_id=operator.id,
        token_digest=token_digest(token),
        csrf_token=secrets.token_urlsafe(24),
        expires_at=utcnow() + timedelta(hours=policy.session_hours),
        ip=origin.ip,
        user_agent=origin.user_agent,
    )
    session.add(auth_session)
    operator.last_login_at = utcnow()
    await session.flush()
    return LoginResult(token=token, session=auth_session, operator=operator)


async def logout(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.id == session_id))


async def authenticate(session: AsyncSession, token: str) -> tuple[Principal, AuthSession]:
    """Resolve a bearer token (or cookie) to a principal; expired or unknown tokens are refused."""
    row = (
        await session.execute(
            select(AuthSession, Operator)
            .join(Operator, Operator.id == AuthSession.operator_id)
            .where(AuthSession.token_digest == token_digest(token))
        )
    ).one_or_none()
    if row is None:
        raise Unauthorized("invalid or expired token")
    auth_session, operator = row
    if auth_session.expires_at <= utcnow() or not operator.active:
        raise Unauthorized("invalid or expired token")
    channel_ids = frozenset(
        (
            await session.execute(select(ChannelMember.channel_id).where(ChannelMember.operator_id == operator.id))
        ).scalars()
    )
    principal = Principal(
        operator_id=operator.id, role=Role(operator.role), channel_ids=channel_ids, session_id=auth_session.id
    )
    return principal, auth_session


async def _set_memberships(session: AsyncSession, operator_id: int, channel_ids: list[int]) -> None:
    wanted = set(channel_ids)
    if wanted:
        found = set((await session.execute(select(Channel.id).where(Channel.id.in_(wanted)))).scalars())
        if missing := wanted - found:
            raise Invalid(f"unknown channel ids: {sorted(missing)}")
    await session.execute(delete(ChannelMember).where(ChannelMember.operator_id == operator_id))
    session.add_all(ChannelMember(channel_id=cid, operator_id=operator_id) for cid in sorted(wanted))
    # Sessions do not autoflush: without this, the response built in the same transaction lists no channels.
    await session.flush()


async def create_operator(
    session: AsyncSession, data: OperatorCreate, *, actor_id: int | None, origin: Origin = NO_ORIGIN
) -> Operator:
    operator = Operator(
        email=str(data.email).lower(),
        name=data.name,
        role=data.role.value,
        password_hash=hash_password(data.password),
    )
    session.add(operator)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"an operator with e-mail {data.email} already exists", code="duplicate_email") from None
    await _set_memberships(session, operator.id, data.channel_ids)
    record(
        session,
        operator_id=actor_id,
        action="operator.created",
        target_type="operator",
        target_id=operator.id,
        details={"email": operator.email, "role": operator.role, "channel_ids": sorted(set(data.channel_ids))},
        origin=origin,
    )
    return operator


async def update_operator(
    session: AsyncSession, operator_id: int, data: OperatorUpdate, *, actor_id: int, origin: Origin = NO_ORIGIN
) -> Operator:
    """Apply an admin's change; the audit entry names what changed, with the previous role and channels."""
    operator = await session.get(Operator, operator_id)
    if operator is None:
        raise NotFound("no such operator")
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "active"):
        if required in changes and changes[required] is None:
            raise Invalid(f"{required} cannot be null; leave it out to keep it", code="null_not_allowed")
    previous: dict[str, object] = {}
    if changes.get("role") is not None and changes["role"] != operator.role:
        previous["previous_role"] = operator.role
    if changes.get("channel_ids") is not None:
        previous["previous_channel_ids"] = sorted(
            (
                await session.execute(select(ChannelMember.channel_id).where(ChannelMember.operator_id == operator.id))
            ).scalars()
        )
    if "password" in changes:
        operator.password_hash = hash_password(changes.pop("password"))
        # A new password ends every existing session of that operator.
        await session.execute(delete(AuthSession).where(AuthSession.operator_id == operator.id))
        changes["password"] = "<changed>"  # noqa: S105  (audit marker, not a secret)
    if (channel_ids := changes.get("channel_ids")) is not None:
        await _set_memberships(session, operator.id, channel_ids)
    if changes.get("two_factor_required") is not None:
        operator.two_factor_required = changes["two_factor_required"]
    for field in ("name", "avatar_url", "active"):
        if field in changes:
            setattr(operator, field, changes[field])
    if "role" in changes and changes["role"] is not None:
        operator.role = Role(changes["role"]).value
    if changes.get("active") is False:
        await session.execute(delete(AuthSession).where(AuthSession.operator_id == operator.id))
    record(
        session,
        operator_id=actor_id,
        action="operator.updated",
        target_type="operator",
        target_id=operator.id,
        details={k: (str(v) if not isinstance(v, list | bool) else v) for k, v in changes.items()} | previous,
        origin=origin,
    )
    return operator
