"""Control routes under /_sandbox/ for driving the fake by hand (screencasts, the standalone server)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from helpline.sandbox.meta.core import MetaSandbox


def _sandbox(request: Request) -> MetaSandbox:
    sandbox: MetaSandbox = request.app.state.sandbox
    return sandbox


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def customer_says(request: Request) -> JSONResponse:
    """{"asset_id", "user_id", "text", "type"?, "name"?} → a signed webhook to Helpline."""
    data = await _json(request)
    sandbox = _sandbox(request)
    try:
        message_id = await sandbox.customer_says(
            str(data["asset_id"]),
            str(data["user_id"]),
            data.get("text"),
            type=str(data.get("type", "text")),
            name=data.get("name"),
        )
    except (KeyError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    last = sandbox.webhooks.deliveries[-1] if sandbox.webhooks.deliveries else None
    return JSONResponse({"message_id": message_id, "delivery_status": last.status if last else None})


async def advance_clock(request: Request) -> JSONResponse:
    data = await _json(request)
    sandbox = _sandbox(request)
    sandbox.advance_clock(timedelta(seconds=float(data.get("seconds", 0))))
    return JSONResponse({"now": sandbox.clock.now().isoformat()})


async def inject(request: Request) -> JSONResponse:
    """{"code", "status"?, "subcode"?, "message"?, "times"?, "path_contains"?, "asynchronous"?}."""
    data = await _json(request)
    if "code" not in data:
        return JSONResponse({"error": "code is required"}, status_code=400)
    injection = _sandbox(request).inject_error(
        int(data["code"]),
        status=data.get("status"),
        subcode=data.get("subcode"),
        message=data.get("message"),
        times=int(data.get("times", 1)),
        path_contains=data.get("path_contains"),
        asynchronous=bool(data.get("asynchronous", False)),
    )
    return JSONResponse(asdict(injection))


async def retry_last(request: Request) -> JSONResponse:
    try:
        delivery = await _sandbox(request).retry_last()
    except LookupError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    return JSONResponse({"status": delivery.status})


async def sent(request: Request) -> JSONResponse:
    """What the business sent through the fake, newest last (what a reviewer would see on the phone)."""
    items = [
        {**asdict(s), "at": s.at.isoformat()} for s in _sandbox(request).sent[-int(request.query_params.get("n", 50)) :]
    ]
    return JSONResponse({"data": items})


def control_routes() -> list[Route]:
    return [
        Route("/_sandbox/customer_says", customer_says, methods=["POST"]),
        Route("/_sandbox/advance_clock", advance_clock, methods=["POST"]),
        Route("/_sandbox/inject", inject, methods=["POST"]),
        Route("/_sandbox/retry_last", retry_last, methods=["POST"]),
        Route("/_sandbox/sent", sent, methods=["GET"]),
    ]
