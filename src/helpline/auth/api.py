"""Routes: login/logout/me and operator management (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from helpline.auth.actions import LoginPolicy, create_operator, login, logout, update_operator
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
from helpline.channels.models import ChannelMember
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import HelplineError, NotFound

router = APIRouter(tags=["auth"])
operators = APIRouter(prefix="/operators", tags=["operators"])


async def _public(session, operator: Operator) -> OperatorPublic:  # type: ignore[no-untyped-def]
    channel_ids = sorted(
        (
            await session.execute(select(ChannelMember.channel_id).where(ChannelMember.operator_id == operator.id))
        ).scalars()
    )
    return OperatorPublic.model_validate(operator).model_copy(update={"channel_ids": channel_ids})


@router.post("/auth/login", response_model=LoginResponse)
async def login_route(body: LoginRequest, request: Request, response: Response, runtime: RuntimeDep) -> LoginResponse:
    s = runtime.settings
    policy = LoginPolicy(
        max_failures=s.login_max_failures, lock_seconds=s.login_lock_seconds, session_hours=s.session_hours
    )
    async with runtime.db.sessions() as session:
        try:
            result = await login(
                session,
                email=body.email,
                password=body.password,
                policy=policy,
                ip=request.client.host if request.client else None,
                user_agent=request.headers.get("user-agent"),
            )
        except HelplineError:
            # The failure counter must be kept even though the login is refused.
            await session.commit()
            raise
        operator = await _public(session, result.operator)
        await session.commit()
    max_age = s.session_hours * 3600
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=s.secure_cookies,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        result.session.csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=s.secure_cookies,
        path="/",
    )
    return LoginResponse(
        access_token=result.token,
        expires_at=result.session.expires_at,
        csrf_token=result.session.csrf_token,
        operator=operator,
    )


@router.post("/auth/logout", status_code=204)
async def logout_route(principal: CurrentPrincipal, response: Response, runtime: RuntimeDep) -> Response:
    if principal.session_id is not None:
        async with runtime.db.transaction() as session:
            await logout(session, principal.session_id)
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
async def create_operator_route(body: OperatorCreate, principal: AdminPrincipal, runtime: RuntimeDep) -> OperatorPublic:
    async with runtime.db.transaction() as session:
        operator = await create_operator(session, body, actor_id=principal.operator_id)
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
    operator_id: BoundedInt, body: OperatorUpdate, principal: AdminPrincipal, runtime: RuntimeDep
) -> OperatorPublic:
    async with runtime.db.transaction() as session:
        operator = await update_operator(session, operator_id, body, actor_id=principal.operator_id)
        return await _public(session, operator)
