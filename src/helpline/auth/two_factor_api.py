"""Routes: the second login step, an operator's own two-factor settings, and an admin's reset of them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import Origin, record
from helpline.auth.actions import check_password
from helpline.auth.api import finish_login
from helpline.auth.dependencies import AdminPrincipal, CurrentPrincipal, RuntimeDep
from helpline.auth.models import AuthSession, Operator, RecoveryCode
from helpline.auth.schemas import (
    LoginResponse,
    RecoveryCodes,
    TwoFactorChallenge,
    TwoFactorCode,
    TwoFactorDisable,
    TwoFactorLogin,
    TwoFactorSetup,
    TwoFactorStatus,
)
from helpline.auth.throttle import ThrottlePolicy, claim_attempt, clear
from helpline.auth.two_factor import (
    begin_enrolment,
    check_second_factor,
    finish_enrolment,
    parse_challenge,
    provisioning_uri,
    replace_recovery_codes,
    turn_off,
    verify_challenge,
)
from helpline.platform.api_contract import BoundedInt
from helpline.platform.clock import utcnow
from helpline.platform.errors import Conflict, Invalid, NotFound, Unauthorized
from helpline.runtime import Runtime

router = APIRouter(tags=["auth"])


def _code_throttle(runtime: Runtime) -> ThrottlePolicy:
    s = runtime.settings
    return ThrottlePolicy(max_failures=s.login_max_failures, lock_seconds=s.login_lock_seconds)


async def _challenged_operator(session: AsyncSession, runtime: Runtime, challenge: str) -> Operator:
    claimed = parse_challenge(challenge)
    operator = await session.get(Operator, claimed.operator_id)
    if operator is None or not operator.active:
        raise Unauthorized("this sign-in step has expired; start again", code="bad_challenge")
    verify_challenge(runtime.settings.secret_key, challenge, operator, utcnow())
    return operator


def _audit(
    session: AsyncSession, actor: int | None, action: str, operator_id: int, origin: Origin, **details: object
) -> None:
    record(
        session,
        operator_id=actor,
        action=action,
        target_type="operator",
        target_id=operator_id,
        details=dict(details),
        origin=origin,
    )


@router.post("/auth/login/two-factor/setup", response_model=TwoFactorSetup)
async def login_setup(body: TwoFactorChallenge, request: Request, runtime: RuntimeDep) -> TwoFactorSetup:
    """During a login that requires enrolment (`enrol: true`): a fresh TOTP secret for the authenticator app."""
    async with runtime.db.transaction() as session:
        operator = await _challenged_operator(session, runtime, body.challenge)
        if operator.totp_enabled:
            raise Conflict("two-factor authentication is already set up; enter a code", code="two_factor_enabled")
        secret = await begin_enrolment(operator, runtime.box)
    return TwoFactorSetup(secret=secret, otpauth_uri=provisioning_uri(secret, operator.email))


@router.post("/auth/login/two-factor", response_model=LoginResponse)
async def login_second_step(
    body: TwoFactorLogin, request: Request, response: Response, runtime: RuntimeDep
) -> LoginResponse:
    """Finish a login: the challenge and a TOTP code (or a recovery code, usable once). When the login was
    enrolling, the code confirms the new authenticator and the answer carries the recovery codes, once.
    Wrong codes are throttled per operator (429 with Retry-After)."""
    origin = Origin.of(request)
    # The challenge is checked before a guess is counted, or anyone could lock an operator out by naming them.
    async with runtime.db.reads() as session:
        operator = await _challenged_operator(session, runtime, body.challenge)
    key = f"2fa:{operator.id}"
    await claim_attempt(runtime.db, key, _code_throttle(runtime))
    async with runtime.db.sessions() as session:
        operator = await _challenged_operator(session, runtime, body.challenge)
        operator_id = operator.id
        recovery_codes: list[str] | None = None
        try:
            if operator.totp_enabled:
                method = await check_second_factor(session, operator, body.code, runtime.box)
            else:
                recovery_codes = await finish_enrolment(session, operator, body.code, runtime.box)
                method = "totp"
                _audit(session, operator.id, "auth.two_factor_enabled", operator.id, origin, during="login")
        except (Unauthorized, Invalid) as exc:
            await session.rollback()
            _audit(session, operator_id, "auth.login_failed", operator_id, origin, reason=exc.code)
            await session.commit()
            raise Unauthorized(exc.message, code="bad_two_factor_code") from None
        await clear(session, key)
        return await finish_login(
            session, response, runtime, operator, origin, method=f"password+{method}", recovery_codes=recovery_codes
        )


async def _me(session: AsyncSession, operator_id: int) -> Operator:
    operator = await session.get(Operator, operator_id)
    assert operator is not None
    return operator


@router.get("/auth/two-factor", response_model=TwoFactorStatus)
async def status(principal: CurrentPrincipal, runtime: RuntimeDep) -> TwoFactorStatus:
    async with runtime.db.reads() as session:
        operator = await _me(session, principal.operator_id)
        left = await session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.operator_id == operator.id, RecoveryCode.used_at.is_(None))
        )
        return TwoFactorStatus(
            enabled=operator.totp_enabled, required=operator.two_factor_required, recovery_codes_left=left or 0
        )


@router.post("/auth/two-factor/setup", response_model=TwoFactorSetup)
async def setup(principal: CurrentPrincipal, runtime: RuntimeDep) -> TwoFactorSetup:
    """Start enrolment: a fresh secret (not active until confirmed with POST /auth/two-factor/enable)."""
    async with runtime.db.transaction() as session:
        operator = await _me(session, principal.operator_id)
        secret = await begin_enrolment(operator, runtime.box)
    return TwoFactorSetup(secret=secret, otpauth_uri=provisioning_uri(secret, operator.email))


@router.post("/auth/two-factor/enable", response_model=RecoveryCodes)
async def enable(
    body: TwoFactorCode, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> RecoveryCodes:
    """Confirm the authenticator with a current code; answers the recovery codes (shown once)."""
    await claim_attempt(runtime.db, f"2fa:{principal.operator_id}", _code_throttle(runtime))
    async with runtime.db.transaction() as session:
        operator = await _me(session, principal.operator_id)
        codes = await finish_enrolment(session, operator, body.code, runtime.box)
        await clear(session, f"2fa:{operator.id}")
        _audit(session, operator.id, "auth.two_factor_enabled", operator.id, Origin.of(request))
    return RecoveryCodes(recovery_codes=codes)


@router.post("/auth/two-factor/recovery-codes", response_model=RecoveryCodes)
async def new_recovery_codes(
    body: TwoFactorCode, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> RecoveryCodes:
    """Replace the recovery codes (the old ones stop working); needs a current code."""
    await claim_attempt(runtime.db, f"2fa:{principal.operator_id}", _code_throttle(runtime))
    async with runtime.db.transaction() as session:
        operator = await _me(session, principal.operator_id)
        if not operator.totp_enabled:
            raise Conflict("two-factor authentication is off", code="two_factor_disabled")
        await check_second_factor(session, operator, body.code, runtime.box)
        codes = await replace_recovery_codes(session, operator.id)
        await clear(session, f"2fa:{operator.id}")
        _audit(session, operator.id, "auth.recovery_codes_replaced", operator.id, Origin.of(request))
    return RecoveryCodes(recovery_codes=codes)


@router.post("/auth/two-factor/disable", status_code=204)
async def disable(
    body: TwoFactorDisable, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """Turn 2FA off (needs the password); refused with 409 while an admin requires it."""
    await claim_attempt(runtime.db, f"2fa:{principal.operator_id}", _code_throttle(runtime))
    async with runtime.db.transaction() as session:
        operator = await _me(session, principal.operator_id)
        if operator.two_factor_required:
            raise Conflict("your administrator requires two-factor authentication", code="two_factor_required")
        checked = await check_password(session, email=operator.email, password=body.password)
        if checked.failure is not None:
            raise Unauthorized("wrong password", code="bad_credentials")
        await turn_off(session, operator)
        await clear(session, f"2fa:{operator.id}")
        _audit(session, operator.id, "auth.two_factor_disabled", operator.id, Origin.of(request))
    return Response(status_code=204)


@router.delete("/operators/{operator_id}/two-factor", status_code=204, tags=["operators"])
async def admin_reset(
    operator_id: BoundedInt, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    """An admin turns an operator's 2FA off (a lost device) and ends that operator's sessions; if 2FA is
    required, the operator enrols again at the next login."""
    async with runtime.db.transaction() as session:
        operator = await session.get(Operator, operator_id)
        if operator is None:
            raise NotFound("no such operator")
        await turn_off(session, operator)
        await session.execute(delete(AuthSession).where(AuthSession.operator_id == operator.id))
        _audit(session, principal.operator_id, "auth.two_factor_reset", operator.id, Origin.of(request))
    return Response(status_code=204)
