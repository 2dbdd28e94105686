"""Routes: login/logout/me and operator management (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import Origin, record
from helpline.auth.actions import (
    LoginPolicy,
    LoginResult,
    check_password,
    create_operator,
    logout,
    normalize_email,
    password_failure,
    start_session,
    update_operator,
)
from helpline.auth.dependencies import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminPrincipal,
    CurrentPrincipal,
    RuntimeDep,
)
from helpline.auth.models import Operator, Role
from helpline.auth.preferences import Preferences, save_preferences, stored_preferences
from helpline.auth.schemas import (
    AdminName,
    LoginRequest,
    LoginResponse,
    MePublic,
    OperatorCreate,
    OperatorPublic,
    OperatorUpdate,
)
from helpline.auth.throttle import ThrottlePolicy, claim_attempt, clear
from helpline.auth.two_factor import make_challenge
from helpline.channels.models import ChannelMember
from helpline.platform.api_contract import BoundedInt
from helpline.platform.clock import utcnow
from helpline.platform.errors import HelplineError, NotFound
from helpline.runtime import Runtime

router = APIRouter(tags=["auth"])
operators = APIRouter(prefix="/operators", tags=["operators"])


async def _public(session, operator: Operator) -> OperatorPublic:  # type: ignore[no-untyped-def]
    channel_ids = sorted(
        (
            await session.execute(select(ChannelMember.channel_id).where(ChannelMember.operator_id == operator.id))
        ).scalars()
    )
    return OperatorPublic.model_validate(operator).model_copy(update={"channel_ids": channel_ids})


class TwoFactorRequired(HelplineError):
    """401 after a correct password when a second factor is needed; details carry the challenge."""

    status_code = 401
    code = "two_factor_required"


def login_policy(runtime: Runtime) -> LoginPolicy:
    s = runtime.settings
    return LoginPolicy(
        max_failures=s.login_max_failures, lock_seconds=s.login_lock_seconds, session_hours=s.session_hours
    )


def throttle_policy(runtime: Runtime) -> ThrottlePolicy:
    return ThrottlePolicy(
        max_failures=runtime.settings.login_max_failures, lock_seconds=runtime.settings.login_lock_seconds
    )


def set_session_cookies(response: Response, runtime: Runtime, result: LoginResult) -> None:
    s = runtime.settings
    max_age = s.session_hours * 3600
    for name, value, httponly in (
        (SESSION_COOKIE, result.token, True),
        (CSRF_COOKIE, result.session.csrf_token, False),
    ):
        response.set_cookie(
            name, value, max_age=max_age, httponly=httponly, samesite="lax", secure=s.secure_cookies, path="/"
        )


async def finish_login(
    session: AsyncSession,
    response: Response,
    runtime: Runtime,
    operator: Operator,
    origin: Origin,
    *,
    method: str,
    recovery_codes: list[str] | None = None,
) -> LoginResponse:
    """Every factor checked: open the session, audit it, set the cookies, answer."""
    result = await start_session(session, operator, login_policy(runtime), origin)
    record(
        session,
        operator_id=operator.id,
        action="auth.login",
        target_type="operator",
        target_id=operator.id,
        details={"method": method},
        origin=origin,
    )
    public = await _public(session, operator)
    await session.commit()
    set_session_cookies(response, runtime, result)
    return LoginResponse(
        access_token=result.token,
        expires_at=result.session.expires_at,
        csrf_token=result.session.csrf_token,
        operator=public,
        recovery_codes=recovery_codes,
    )


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={401: {"description": "bad_credentials, deactivated, or two_factor_required (details.challenge)"}},
)
async def login_route(body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep) -> LoginResponse:
    """Log in with e-mail and password. With two-factor authentication on (or required by an admin), a correct
    password answers 401 `two_factor_required` with `details: {challenge, expires_in, enrol}`; send the code to
    POST /auth/login/two-factor (when `enrol` is true, first POST /auth/login/two-factor/setup). Failures are
    throttled per e-mail (the account locks after HELPLINE_LOGIN_MAX_FAILURES) and per client address
    (HELPLINE_LOGIN_IP_LIMIT): 429 with Retry-After."""
    origin = Origin.of(request)
    email = normalize_email(body.email)
    await runtime.login_limiter.check(origin.ip)
    await claim_attempt(runtime.db, email, throttle_policy(runtime))
    async with runtime.db.sessions() as session:
        checked = await check_password(session, email=email, password=body.password)
        operator = checked.operator
        if checked.failure is not None or operator is None:
            failure = checked.failure or "bad_credentials"
            await runtime.login_limiter.failed(origin.ip)
            record(
                session,
                operator_id=operator.id if operator else None,
                action="auth.login_failed",
                target_type="operator",
                target_id=operator.id if operator else None,
                details={"email": email[:320], "reason": failure},
                origin=origin,
            )
            await session.commit()
            raise password_failure(failure)
        await clear(session, email)
        if operator.totp_enabled or operator.two_factor_required:
            challenge, ttl = make_challenge(runtime.settings.secret_key, operator, utcnow())
            await session.commit()
            raise TwoFactorRequired(
                "enter the code from your authenticator app"
                if operator.totp_enabled
                else "your administrator requires two-factor authentication: set it up to continue",
                details={"challenge": challenge, "expires_in": ttl, "enrol": not operator.totp_enabled},
            )
        return await finish_login(session, response, runtime, operator, origin, method="password")


@router.post("/auth/logout", status_code=204)
async def logout_route(
    principal: CurrentPrincipal, request: Request, response: Response, runtime: RuntimeDep
) -> Response:
    if principal.session_id is not None:
        async with runtime.db.transaction() as session:
            await logout(session, principal.session_id)
            record(
                session,
                operator_id=principal.operator_id,
                action="auth.logout",
                target_type="operator",
                target_id=principal.operator_id,
                origin=Origin.of(request),
            )
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/auth/me", response_model=MePublic)
async def me(principal: CurrentPrincipal, runtime: RuntimeDep) -> MePublic:
    """Who I am, my channels, and the names of the active admins (whom an agent with no channels asks)."""
    async with runtime.db.reads() as session:
        operator = await session.get(Operator, principal.operator_id)
        assert operator is not None
        public = await _public(session, operator)
        admins = (
            await session.execute(
                select(Operator.name)
                .where(Operator.role == Role.admin.value, Operator.active.is_(True))
                .order_by(Operator.name, Operator.id)
            )
        ).scalars()
        return MePublic(**public.model_dump(), admins=[AdminName(name=n) for n in admins])


@router.get("/auth/me/preferences", response_model=Preferences)
async def get_preferences(principal: CurrentPrincipal, runtime: RuntimeDep) -> Preferences:
    """My preferences; defaults for what I never set."""
    async with runtime.db.reads() as session:
        operator = await session.get(Operator, principal.operator_id)
        assert operator is not None
        return stored_preferences(operator)


@router.put("/auth/me/preferences", response_model=Preferences)
async def put_preferences(body: Preferences, principal: CurrentPrincipal, runtime: RuntimeDep) -> Preferences:
    """Replace my preferences (the whole object; omitted fields take their defaults). 422 on an unknown time
    zone, locale or field, a saved view's name over 60 or query over 1000 characters, or more than 20 views."""
    async with runtime.db.transaction() as session:
        return await save_preferences(session, principal.operator_id, body)


@operators.get("", response_model=list[OperatorPublic])
async def list_operators(principal: CurrentPrincipal, runtime: RuntimeDep) -> list[OperatorPublic]:
    # Every operator may see the team (to assign and mention); only admins change it.
    async with runtime.db.reads() as session:
        rows = (await session.execute(select(Operator).order_by(Operator.name))).scalars()
        return [await _public(session, o) for o in rows]


@operators.post("", response_model=OperatorPublic, status_code=201)
async def create_operator_route(
    body: OperatorCreate, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> OperatorPublic:
    async with runtime.db.transaction() as session:
        operator = await create_operator(session, body, actor_id=principal.operator_id, origin=Origin.of(request))
        return await _public(session, operator)


@operators.get("/{operator_id}", response_model=OperatorPublic)
async def get_operator(operator_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> OperatorPublic:
    async with runtime.db.reads() as session:
        operator = await session.get(Operator, operator_id)
        if operator is None:
            raise NotFound("no such operator")
        return await _public(session, operator)


@operators.patch("/{operator_id}", response_model=OperatorPublic)
async def update_operator_route(
    operator_id: BoundedInt, body: OperatorUpdate, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> OperatorPublic:
    async with runtime.db.transaction() as session:
        operator = await update_operator(
            session, operator_id, body, actor_id=principal.operator_id, origin=Origin.of(request)
        )
        return await _public(session, operator)
