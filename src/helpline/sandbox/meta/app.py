"""The fake Graph API as an ASGI app: Meta's endpoints under /{version}/…, its auth, limits and error shapes."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpline.sandbox.meta.control import control_routes
from helpline.sandbox.meta.core import MetaSandbox
from helpline.sandbox.meta.errors import GraphError, invalid_parameter, unsupported_request
from helpline.sandbox.meta.sending import page_send, whatsapp_send
from helpline.sandbox.meta.state import Call, Token

log = logging.getLogger(__name__)


class GraphRequest:
    """What a handler gets: the sandbox, the authenticated token, parsed parameters and the path ids."""

    def __init__(self, sandbox: MetaSandbox, request: Request, token: Token, params: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.request = request
        self.token = token
        self.params = params
        self.object_id: str = request.path_params.get("object_id", "")
        self.injection_path = request.url.path

    @property
    def base(self) -> str:
        return (
            self.sandbox.public_url.rstrip("/") if self.sandbox.public_url else str(self.request.base_url).rstrip("/")
        )

    def resolve_me(self) -> str:
        if self.object_id == "me":
            if not self.token.me:
                raise GraphError(
                    code=2500,
                    message="An active access token must be used to query information about the current user.",
                    status=400,
                )
            return self.token.me
        return self.object_id


Handler = Callable[[GraphRequest], Awaitable[Any]]


def _token_of(request: Request, form: dict[str, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return request.query_params.get("access_token") or (str(form["access_token"]) if "access_token" in form else None)


async def _params(request: Request) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """JSON body, or form/multipart fields (values that look like JSON objects are decoded, as Graph does)."""
    if request.method in ("GET", "DELETE"):
        return None, {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise invalid_parameter("Invalid JSON in request body") from None
        if not isinstance(data, dict):
            raise invalid_parameter("The request body must be a JSON object")
        return data, {}
    form: dict[str, Any] = {}
    async with request.form() as parsed:
        for key, value in parsed.multi_items():
            if isinstance(value, UploadFile):
                form[key] = (value.filename, await value.read(), value.content_type)
            elif value[:1] in "{[":
                try:
                    form[key] = json.loads(value)
                except ValueError:
                    form[key] = value
            else:
                form[key] = value
    return None, form


def graph(
    sandbox: MetaSandbox, handler: Handler, *, rate_kind: str | None = "graph"
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: log the call, authenticate, apply the rate limit, render GraphError in Meta's shape."""

    async def endpoint(request: Request) -> Response:
        call = Call(request.method, request.url.path, dict(request.query_params), None, None, {})
        sandbox.calls.append(call)
        try:
            if not str(request.path_params.get("version", "")).startswith("v"):
                raise unsupported_request(request.url.path)
            body, form = await _params(request)
            call.json = body
            call.form = {k: v for k, v in form.items() if not isinstance(v, tuple)}
            call.token = _token_of(request, form)
            token = sandbox.authenticate(call.token)
            params: dict[str, Any] = {**request.query_params, **form, **(body or {})}
            params.pop("access_token", None)
            greq = GraphRequest(sandbox, request, token, params)
            if rate_kind is not None:
                sandbox.check_rate(token, rate_kind)
            result = await handler(greq)
        except GraphError as exc:
            call.status, call.response = exc.http_status, exc.body()
            return JSONResponse(call.response, status_code=call.status)
        call.status, call.response = 200, result
        return JSONResponse(result)

    return endpoint


def _injected(greq: GraphRequest) -> None:
    injection = greq.sandbox.take_injection(greq.injection_path)
    if injection is not None:
        raise GraphError(
            code=injection.code, message=injection.message, status=injection.status, subcode=injection.subcode
        )


# ---------------------------------------------------------------- handlers


async def messages(greq: GraphRequest) -> Any:
    sandbox, target = greq.sandbox, greq.resolve_me()
    if target in sandbox.numbers:
        number = sandbox.numbers[target]
        sandbox.check_target(greq.token, number.phone_number_id, number.waba_id)
        sandbox.check_rate(greq.token, "whatsapp")
        return await whatsapp_send(sandbox, number, greq.params, sandbox.take_injection(greq.injection_path))
    page = sandbox.pages.get(target)
    if page is None:
        raise unsupported_request(greq.request.url.path)
    sandbox.check_target(greq.token, page.id)
    sandbox.check_rate(greq.token, "page")
    return await page_send(sandbox, page, greq.params, sandbox.take_injection(greq.injection_path))


async def upload_media(greq: GraphRequest) -> Any:
    _injected(greq)
    number = greq.sandbox.numbers.get(greq.object_id)
    if number is None:
        raise unsupported_request(greq.request.url.path)
    greq.sandbox.check_target(greq.token, number.phone_number_id, number.waba_id)
    file = greq.params.get("file")
    if greq.params.get("messaging_product") != "whatsapp":
        raise invalid_parameter("The parameter messaging_product is required.")
    if not isinstance(file, tuple):
        raise invalid_parameter("The parameter file is required.")
    filename, data, content_type = file
    media = greq.sandbox.add_media(data, str(greq.params.get("type") or content_type), filename)
    return {"id": media.id}


async def get_object(greq: GraphRequest) -> Any:
    _injected(greq)
    media = greq.sandbox.media.get(greq.object_id)
    if media is not None:
        return {
            "url": greq.sandbox.media_url(media.id, greq.base),
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": len(media.data),
            "id": media.id,
            "messaging_product": "whatsapp",
        }
    target = greq.resolve_me()
    if (profile := greq.sandbox.user_profile(target, str(greq.params.get("fields") or ""))) is not None:
        return profile
    if target in greq.sandbox.pages:
        page = greq.sandbox.pages[target]
        return {"id": page.id, "name": page.name}
    if target in greq.sandbox.numbers:
        number = greq.sandbox.numbers[target]
        return {
            "id": number.phone_number_id,
            "display_phone_number": number.display_phone_number,
            "verified_name": "Segurozinho",
            "quality_rating": "GREEN",
        }
    raise unsupported_request(greq.request.url.path)


async def delete_object(greq: GraphRequest) -> Any:
    _injected(greq)
    if greq.sandbox.media.pop(greq.object_id, None) is None:
        raise unsupported_request(greq.request.url.path)
    return {"success": True}


async def message_attachments(greq: GraphRequest) -> Any:
    _injected(greq)
    page = greq.sandbox.pages.get(greq.resolve_me())
    if page is None:
        raise unsupported_request(greq.request.url.path)
    message = greq.params.get("message") or {}
    attachment = message.get("attachment") if isinstance(message, dict) else None
    if not isinstance(attachment, dict) or attachment.get("type") not in ("image", "audio", "video", "file"):
        raise invalid_parameter("Upload attachment failure.", subcode=2018047)
    filedata = greq.params.get("filedata")
    if not (attachment.get("payload") or {}).get("url") and not isinstance(filedata, tuple):
        raise invalid_parameter("Upload attachment failure.", subcode=2018047)
    attachment_id = str(10**15 + len(greq.sandbox.attachments) + 1)
    greq.sandbox.attachments[attachment_id] = {"type": attachment["type"], "page_id": page.id}
    return {"attachment_id": attachment_id}


async def subscribed_apps(greq: GraphRequest) -> Any:
    _injected(greq)
    sandbox, target = greq.sandbox, greq.resolve_me()
    waba_ids = {n.waba_id for n in sandbox.numbers.values()}
    if target not in sandbox.pages and target not in waba_ids:
        raise unsupported_request(greq.request.url.path)
    method = greq.request.method
    if method == "POST":
        fields = greq.params.get("subscribed_fields", "messages")
        names = fields if isinstance(fields, list) else [f for f in str(fields).split(",") if f]
        sandbox.subscriptions[target] = names
        return {"success": True}
    if method == "DELETE":
        sandbox.subscriptions.pop(target, None)
        return {"success": True}
    if target not in sandbox.subscriptions:
        return {"data": []}
    if target in waba_ids:
        return {
            "data": [
                {
                    "whatsapp_business_api_data": {
                        "id": sandbox.app_id,
                        "name": sandbox.app_name,
                        "link": "https://www.facebook.com/games/?app_id=" + sandbox.app_id,
                    }
                }
            ]
        }
    return {
        "data": [
            {
                "category": "Business",
                "link": "https://www.facebook.com/games/?app_id=" + sandbox.app_id,
                "name": sandbox.app_name,
                "id": sandbox.app_id,
                "subscribed_fields": sandbox.subscriptions[target],
            }
        ]
    }


async def message_templates(greq: GraphRequest) -> Any:
    _injected(greq)
    if greq.object_id not in greq.sandbox.templates:
        raise unsupported_request(greq.request.url.path)
    greq.sandbox.check_target(greq.token, greq.object_id)
    items = greq.sandbox.templates[greq.object_id]
    try:
        limit = max(1, min(int(greq.params.get("limit", 25)), 100))
        start = int(base64.urlsafe_b64decode(str(greq.params["after"])).decode()) if "after" in greq.params else 0
    except (ValueError, TypeError):
        raise invalid_parameter("Invalid pagination parameter") from None
    page = items[start : start + limit]
    result: dict[str, Any] = {
        "data": page,
        "paging": {"cursors": {"before": _cursor(start), "after": _cursor(start + len(page))}},
    }
    if start + limit < len(items):
        # Graph's `next` is a full URL (it keeps the access_token when one was in the query).
        url = greq.request.url.include_query_params(after=_cursor(start + len(page)), limit=limit)
        root = str(greq.request.scope.get("root_path", ""))
        result["paging"]["next"] = f"{greq.base}{url.path.removeprefix(root)}?{url.query}"
    return result


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


async def debug_token(greq: GraphRequest) -> Any:
    sandbox = greq.sandbox
    value = str(greq.params.get("input_token") or "")
    if not value:
        raise invalid_parameter("The parameter input_token is required")
    token = sandbox.tokens.get(value)
    now = sandbox.clock.timestamp()
    if token is None:
        return {
            "data": {
                "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
                "is_valid": False,
                "scopes": [],
            }
        }
    expired = bool(token.expires_at) and token.expires_at <= now
    data: dict[str, Any] = {
        "app_id": sandbox.app_id,
        "type": token.type,
        "application": sandbox.app_name,
        "data_access_expires_at": now + 90 * 86400,
        "expires_at": token.expires_at,
        "is_valid": token.valid and not expired,
        "issued_at": token.issued_at,
        "scopes": token.scopes,
        "granular_scopes": [
            {"scope": s, **({"target_ids": token.granular[s]} if s in token.granular else {})} for s in token.scopes
        ],
        "user_id": token.user_id,
    }
    if token.type == "PAGE" and token.me:
        data["profile_id"] = token.me
    if expired:
        data["error"] = {"code": 190, "message": "Error validating access token: Session has expired.", "subcode": 463}
    elif not token.valid:
        data["error"] = {
            "code": 190,
            "message": "Error validating access token: The session has been invalidated.",
            "subcode": 460,
        }
    return {"data": data}


async def permissions(greq: GraphRequest) -> Any:
    _injected(greq)
    token = greq.token
    return {
        "data": [{"permission": p, "status": "granted"} for p in token.scopes]
        + [{"permission": p, "status": "declined"} for p in token.declined]
    }


# ---------------------------------------------------------------- file downloads (not Graph JSON)


async def lookaside(request: Request) -> Response:
    """The short-lived WhatsApp media URL: the GET must carry the Bearer token (provider-contracts §2.3)."""
    sandbox: MetaSandbox = request.app.state.sandbox
    try:
        header = request.headers.get("authorization", "")
        sandbox.authenticate(header[7:].strip() if header.lower().startswith("bearer ") else None)
    except GraphError as exc:
        return JSONResponse(exc.body(), status_code=401)
    media_id = request.query_params.get("mid", "")
    try:
        expires = int(request.query_params.get("ext", "0"))
    except ValueError:
        expires = 0
    media = sandbox.media.get(media_id)
    if media is None or not sandbox.check_media_url(media_id, expires, request.query_params.get("hash", "")):
        return Response("URL signature expired", status_code=403, media_type="text/plain")
    return Response(media.data, media_type=media.mime_type)


async def cdn(request: Request) -> Response:
    sandbox: MetaSandbox = request.app.state.sandbox
    media_id = request.path_params["media_id"]
    media = sandbox.media.get(media_id)
    if media is None or request.query_params.get("oh") != sandbox.cdn_url(media_id, "").split("oh=")[1]:
        return Response("Bad URL hash", status_code=403, media_type="text/plain")
    return Response(media.data, media_type=media.mime_type)


def create_sandbox_app(sandbox: MetaSandbox) -> Starlette:
    """The ASGI app serving `sandbox`; mount it anywhere and point HELPLINE_META_GRAPH_URL at it."""
    v = "/{version}"
    o = v + "/{object_id}"
    routes = [
        # First: these paths would otherwise match "/{version}/{object_id}".
        *control_routes(),
        Route("/lookaside/whatsapp_business/attachments/", lookaside, methods=["GET"]),
        Route("/cdn/{media_id}", cdn, methods=["GET"]),
        Route(v + "/debug_token", graph(sandbox, debug_token), methods=["GET"]),
        Route(v + "/me/permissions", graph(sandbox, permissions), methods=["GET"]),
        Route(o + "/messages", graph(sandbox, messages, rate_kind=None), methods=["POST"]),
        Route(o + "/media", graph(sandbox, upload_media), methods=["POST"]),
        Route(o + "/message_attachments", graph(sandbox, message_attachments), methods=["POST"]),
        Route(o + "/subscribed_apps", graph(sandbox, subscribed_apps), methods=["GET", "POST", "DELETE"]),
        Route(o + "/message_templates", graph(sandbox, message_templates), methods=["GET"]),
        Route(o, graph(sandbox, get_object), methods=["GET"]),
        Route(o, graph(sandbox, delete_object), methods=["DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
