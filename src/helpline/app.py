"""create_app(): routers, lifespan, middleware — nothing else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from helpline import __version__
from helpline.apidocs import openapi as apidocs_openapi
from helpline.apidocs import pages as apidocs_pages
from helpline.attachments.api import router as attachments_router
from helpline.audit.actions import AuditOriginMiddleware
from helpline.audit.api import router as audit_router
from helpline.auth.api import operators as operators_router
from helpline.auth.api import router as auth_router
from helpline.auth.two_factor_api import router as two_factor_router
from helpline.bot.api import router as bot_router
from helpline.bot.interface import FrontLine
from helpline.channels.api import router as channels_router
from helpline.channels.inbound_asgi import InboundDispatcher
from helpline.channels.meta.api import router as meta_webhooks_router
from helpline.channels.signing_cache import SigningCache
from helpline.channels.widget.routes import router as widget_router
from helpline.contacts.api import router as contacts_router
from helpline.conversations.api import router as conversations_router
from helpline.engagement.api import router as templates_router
from helpline.ops.api import router as ops_router
from helpline.platform import redaction, wakeups
from helpline.platform.api_contract import reject_unknown_query
from helpline.platform.clean_input import CleanInputMiddleware
from helpline.platform.db import database_down
from helpline.platform.errors import HelplineError
from helpline.platform.headers import SecurityHeadersMiddleware
from helpline.platform.middleware import BodyLimitMiddleware, MetricsMiddleware
from helpline.platform.migrate import upgrade_async
from helpline.platform.proxies import TrustedProxyMiddleware
from helpline.platform.validation import field_problem
from helpline.privacy.api import router as privacy_router
from helpline.privacy.staff_api import router as privacy_staff_router
from helpline.profiles.api import router as profiles_router
from helpline.realtime import access as realtime_access
from helpline.realtime.api import router as realtime_router
from helpline.runtime import Runtime
from helpline.settings import Settings
from helpline.web import pages as web_pages
from helpline.web.pages import router as web_router
from helpline.webhooks.api import router as webhooks_router
from helpline.worker_thread import WorkerThread

log = logging.getLogger(__name__)

# How long a client should wait before retrying when the database is down (RFC 9110 §10.2.3).
RETRY_AFTER_SECONDS = 5

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
# What any API route may answer besides its own responses, so the OpenAPI document declares it.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
    for status, text in (
        (400, "bad request"),
        (401, "not logged in, or the token expired"),
        (403, "not allowed (role, or CSRF token missing)"),
        (404, "no such resource, or not visible to this operator"),
        (409, "conflicts with the current state"),
        (413, "request body too large"),
        (422, "invalid input; `details.errors` lists the problems, `details.problems` the same as {field, type, ctx}"),
        (429, "too many attempts; see Retry-After"),
        (503, "the database is unavailable; see Retry-After"),
    )
}


def _error(status: int, code: str, message: str, details: dict[str, object] | None = None) -> JSONResponse:
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)


def _unavailable() -> JSONResponse:
    response = _error(503, "database_unavailable", "the database is unavailable; try again shortly")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HelplineError)
    async def domain_error(_: Request, exc: HelplineError) -> JSONResponse:
        response = _error(exc.status_code, exc.code, exc.message, exc.details)
        if exc.status_code in (429, 503) and "retry_after" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(p) for p in err["loc"] if p != "body") or "body" for err in exc.errors()]
        problems = [f"{field}: {err['msg']}" for field, err in zip(fields, exc.errors(), strict=True)]
        code = "invalid_json" if any(err["type"] == "json_invalid" for err in exc.errors()) else "invalid"
        # `errors`: one English line per problem (for logs and people reading the API); `problems`: the same,
        # machine-readable, so a client can say them in its own language (the web app's catalogues do).
        structured = [field_problem(field, err) for field, err in zip(fields, exc.errors(), strict=True)]
        return _error(422, code, "; ".join(problems[:5]), {"errors": problems, "problems": structured})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and web_pages.wants_html(request):
            # A person typed or followed a wrong address: a page in their language, not a JSON body.
            page = web_pages.not_found_html(request.headers.get("accept-language", ""))
            return HTMLResponse(page, status_code=404, headers={"Cache-Control": "no-cache"})
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = _error(exc.status_code, code, str(exc.detail))
        # e.g. `Allow` on a 405 (RFC 9110 §15.5.6)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(IntegrityError)
    async def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        # A unique or NOT NULL rule the input broke that no check caught first: the input's fault, not ours.
        # Only the first line (the rule broken): PostgreSQL's DETAIL line quotes the stored value, e.g. an e-mail.
        log.warning("integrity error answered 409: %s", str(exc.orig).splitlines()[0][:200] if exc.orig else "")
        return _error(409, "conflict", "this change conflicts with the stored data (a duplicate or a missing value)")

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        # The driver's message quotes the offending value (customer data): log its kind and SQLSTATE only.
        log.warning(
            "data error answered 422: %s (SQLSTATE %s)", type(exc.orig).__name__, getattr(exc.orig, "sqlstate", None)
        )
        return _error(422, "invalid", "a value is out of the range the database can store")

    @app.exception_handler(OverflowError)
    async def overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # SQLite's driver refuses integers beyond 64 bits before the database sees them.
        return _error(422, "invalid", "a number is out of the range the database can store")

    @app.exception_handler(DBAPIError)
    async def database_unavailable(_: Request, exc: DBAPIError) -> JSONResponse:
        if not database_down(exc):
            log.exception("unhandled database error", exc_info=exc)
            return _error(500, "internal_error", "something went wrong on our side; it has been logged")
        return _unavailable()

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(_: Request, exc: PoolTimeout) -> JSONResponse:
        return _unavailable()

    @app.exception_handler(ConnectionError)
    async def connection_refused(_: Request, exc: ConnectionError) -> JSONResponse:
        # asyncpg raises ConnectionRefusedError / socket errors directly when the server is gone.
        log.warning("database connection failed: %s", exc)
        return _unavailable()

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _error(500, "internal_error", "something went wrong on our side; it has been logged")


class HelplineApp(FastAPI):
    """FastAPI with the signed inbound webhooks served ahead of its middleware (`channels/inbound_asgi.py`)."""

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return InboundDispatcher(stack, self.state.runtime, self.state.signing_cache, self.exception_handlers)


def create_app(
    settings: Settings,
    *,
    front_line: FrontLine | None = None,
    http: httpx.AsyncClient | None = None,
    migrate: bool = True,
) -> FastAPI:
    redaction.install()
    runtime = Runtime.create(settings, http=http)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade_async(settings.database_url)
        await runtime.start_realtime()
        runtime.spawn(
            realtime_access.watch(runtime.hub, runtime.db, settings.realtime_recheck_seconds), "realtime-access"
        )
        if settings.demo:
            from helpline.sandbox.demo import start_demo

            # Before the workers: the demo's mail servers listen on new ports each start and the stored
            # channel is re-pointed at them here, so the mailbox reader's first login goes to the live port
            # (started after, it tried the previous run's port first and logged refused connections).
            await start_demo(runtime, meta_sandbox=getattr(app.state, "meta_sandbox", None))
        workers = WorkerThread(runtime, front_line) if settings.run_workers else None
        if workers is not None:
            # Their own loop in a thread: the requests on this loop cannot starve them (worker_thread.py).
            await workers.start()
            app.state.workers = workers
        elif runtime.db.is_postgres:
            # The workers are other processes: wake them when this one commits outbox rows.
            runtime.spawn(wakeups.Notifier(runtime.db).run(), "outbox-notify")
        try:
            yield
        finally:
            if workers is not None:
                await workers.stop()
            await runtime.close()

    app = HelplineApp(
        title="Helpline",
        version=__version__,
        description='Omnichannel customer-care inbox API. Errors are `{"error": {"code", "message"}}`.',
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.signing_cache = SigningCache(runtime)
    _install_error_handlers(app)
    for router in (
        auth_router,
        two_factor_router,
        operators_router,
        conversations_router,
        channels_router,
        contacts_router,
        profiles_router,
        attachments_router,
        webhooks_router,
        audit_router,
        bot_router,
        templates_router,
    ):
        app.include_router(
            router, prefix="/api/v1", responses=ERROR_RESPONSES, dependencies=[Depends(reject_unknown_query)]
        )
    app.include_router(meta_webhooks_router, responses=ERROR_RESPONSES)
    app.include_router(widget_router, responses=ERROR_RESPONSES, dependencies=[Depends(reject_unknown_query)])
    app.include_router(ops_router, responses=ERROR_RESPONSES, dependencies=[Depends(reject_unknown_query)])
    app.include_router(realtime_router, responses=ERROR_RESPONSES)
    app.include_router(web_router, responses=ERROR_RESPONSES)
    app.include_router(privacy_router, responses=ERROR_RESPONSES)
    app.include_router(privacy_staff_router, responses=ERROR_RESPONSES, dependencies=[Depends(reject_unknown_query)])
    apidocs_pages.install(app)
    apidocs_openapi.install(app)
    if settings.demo:
        from helpline.sandbox.api_customer import router as sandbox_router
        from helpline.sandbox.meta import demo as meta_demo
        from helpline.sandbox.meta.app import create_sandbox_app
        from helpline.sandbox.widget_site import router as widget_site_router

        app.include_router(sandbox_router)
        app.include_router(widget_site_router)
        # The fake Meta Graph API lives inside the demo server; Helpline's Graph calls are pointed at it.
        meta_demo.prepare_settings(settings)
        app.state.meta_sandbox = meta_demo.build_sandbox(settings)
        app.mount(meta_demo.MOUNT, create_sandbox_app(app.state.meta_sandbox))
    app.add_middleware(CleanInputMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.base_url.startswith("https://"))
    app.add_middleware(AuditOriginMiddleware)
    # Outermost: every layer below (metrics, limits, audit) sees the real client address.
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies)
    return app
