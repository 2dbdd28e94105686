"""FastAPI dependencies: the runtime, the authenticated principal (bearer or cookie + CSRF), role checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from helpline.auth.actions import authenticate
from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.platform.errors import Forbidden, Unauthorized
from helpline.runtime import Runtime

SESSION_COOKIE = "helpline_session"
CSRF_COOKIE = "helpline_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_runtime(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def bearer_token(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def resolve_principal(connection: HTTPConnection) -> Principal:
    """The operator behind a request or websocket: `Authorization: Bearer`, else the session cookie (then writes
    need the CSRF header). Never a token from the query string: URLs end up in access logs and Referer headers."""
    runtime = get_runtime(connection)
    token = bearer_token(connection)
    via_cookie = False
    if token is None:
        token = connection.cookies.get(SESSION_COOKIE)
        via_cookie = token is not None
    if not token:
        raise Unauthorized("authentication required: send a bearer token or log in")
    async with runtime.db.reads() as session:
        principal, auth_session = await authenticate(session, token)
    method = connection.scope.get("method", "GET")
    # A cookie rides along on cross-site requests; the CSRF header proves the page itself sent this.
    if via_cookie and method not in SAFE_METHODS and connection.headers.get(CSRF_HEADER) != auth_session.csrf_token:
        raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf")
    return principal


async def current_principal(request: Request) -> Principal:
    return await resolve_principal(request)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(role: Role):  # type: ignore[no-untyped-def]
    async def check(principal: CurrentPrincipal) -> Principal:
        principal.require(role)
        return principal

    return check


AdminPrincipal = Annotated[Principal, Depends(require_role(Role.admin))]
SupervisorPrincipal = Annotated[Principal, Depends(require_role(Role.supervisor))]
