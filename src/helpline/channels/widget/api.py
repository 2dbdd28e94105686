"""Routes: the visitor API of the website widget (/api/v1/widget/{channel_id}/…), answered with per-widget CORS.

A visitor starts a session and gets a signed token (kept in the browser's localStorage); every later call sends
it as `Authorization: Bearer` and names its session in the path. A token of another session, or of another
widget, gets 404 — the same answer as a session that does not exist — so no history is ever shown to a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from helpline.attachments.actions import safe_filename
from helpline.auth.dependencies import RuntimeDep, bearer_token
from helpline.channels.base import InboundAttachment, InboundMessage
from helpline.channels.models import Channel
from helpline.channels.widget.adapter import visitor_message
from helpline.channels.widget.guard import check_origin, cors_headers, preflight_headers
from helpline.channels.widget.identity import BadToken, SessionSigner, VisitorSession, new_session_id, verified_user
from helpline.channels.widget.sessions import history, message_views, widget_channel
from helpline.channels.widget.settings import WidgetSettings
from helpline.conversations.ingest import ingest_events
from helpline.conversations.models import Message
from helpline.delivery.handlers import signed_attachment_url
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import Invalid, NotFound, TooLarge
from helpline.platform.filetypes import VERIFIED, check_declared_type, normalize
from helpline.platform.sanitize import is_blank
from helpline.runtime import Runtime

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What visitors may upload: types whose bytes the detector can vouch for (platform/filetypes.py).
UPLOAD_TYPES = sorted(VERIFIED)


class WidgetRoute(APIRoute):
    """Every answer of the visitor API, errors included, carries CORS headers for an allowed page, so the widget
    can read a 429's Retry-After or a 422's message. The app's own exception handlers shape the errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except Exception as exc:
                found = _exception_handler(request, exc)
                if found is None:
                    raise
                response = await found(request, exc)
            origin = getattr(request.state, "cors_origin", None)
            if origin is not None:
                response.headers.update(cors_headers(origin))
            return response

        return handler


def _exception_handler(request: Request, exc: Exception) -> Any:
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    if isinstance(exc, StarletteHTTPException):
        return handlers.get(StarletteHTTPException)
    return None


router = APIRouter(prefix="/widget", tags=["widget"], route_class=WidgetRoute)


async def _limit(runtime: Runtime, rate: str, channel: Channel, scope: str, key: str) -> None:
    """Count one visitor action against a widget's `rate` (429 with Retry-After over it; `platform/rate_limits`)."""
    await runtime.rate_limits.limit("widget", rate).enforce(f"{channel.id}:{scope}:{key}", "too many requests")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _widget(request: Request, runtime: Runtime, channel_id: int) -> tuple[Channel, WidgetSettings]:
    """The widget, after checking the page's Origin against it (403 `bad_origin`)."""
    async with runtime.db.reads() as session:
        channel, widget = await widget_channel(session, channel_id)
    origin = request.headers.get("origin")
    check_origin(origin, widget, runtime.settings)
    request.state.cors_origin = origin
    return channel, widget


async def _visitor(
    request: Request, runtime: Runtime, channel_id: int, session_id: str
) -> tuple[Channel, WidgetSettings, VisitorSession]:
    channel, widget = await _widget(request, runtime, channel_id)
    token = bearer_token(request)
    try:
        visitor = SessionSigner(runtime.settings.secret_key).read(token or "", channel_id=channel.id)
    except BadToken:
        raise NotFound("no such session") from None
    if visitor.session_id != session_id:
        raise NotFound("no such session")
    return channel, widget, visitor


def _url_signer(runtime: Runtime) -> Callable[[int], str]:
    return lambda attachment_id: signed_attachment_url(runtime, attachment_id)


def public_config(channel: Channel, widget: WidgetSettings) -> dict[str, Any]:
    """What the widget script needs to draw itself; nothing secret."""
    return {
        "channel_id": channel.id,
        "title": widget.title,
        "greeting": widget.greeting,
        "theme_color": widget.theme_color,
        "avatar_url": str(widget.avatar_url) if widget.avatar_url else None,
        "position": widget.position,
        "locale": widget.locale,
        "pre_chat_form": widget.pre_chat_form,
        "max_message_chars": widget.max_message_chars,
        "max_upload_bytes": widget.max_upload_bytes,
        "upload_types": UPLOAD_TYPES,
    }


@router.options("/{channel_id}/{rest:path}", include_in_schema=False)
async def preflight(channel_id: BoundedInt, rest: str, request: Request, runtime: RuntimeDep) -> Response:
    """CORS preflight (Fetch standard §3.2.2): allowed only for the widget's origins."""
    await _widget(request, runtime, channel_id)
    origin = request.headers.get("origin")
    request.state.cors_origin = None
    return Response(status_code=204, headers=preflight_headers(origin) if origin else {})


@router.get("/{channel_id}/config")
async def config(channel_id: BoundedInt, request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """The widget's look and limits (title, greeting, theme colour, avatar, position, locale, pre-chat form)."""
    channel, widget = await _widget(request, runtime, channel_id)
    return public_config(channel, widget)


LOCALE_HELP = (
    "the visitor's language as the page knows it (BCP 47, e.g. pt-BR): the bot answers in it when a message "
    "shows no language of its own"
)


def _locale_content(locale: str | None) -> dict[str, Any]:
    """{"locale": "pt"} from "pt-BR": the language part of the page's tag, kept on the message for the bot
    (bot/pipeline.py uses it when it speaks that language); nothing for a tag that is not one."""
    language = (locale or "").strip().replace("_", "-").split("-")[0].lower()
    return {"locale": language} if re.fullmatch(r"[a-z]{2,3}", language) else {}


class SessionStart(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    message: str | None = Field(default=None, max_length=20_000, description="the pre-chat form's first message")
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_hash: str | None = Field(default=None, max_length=128, description="hex HMAC-SHA256(secret, user_id)")
    locale: str | None = Field(default=None, max_length=35, description=LOCALE_HELP)


class SessionStarted(BaseModel):
    token: str
    session_id: str
    verified: bool
    name: str | None
    email: str | None


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    client_id: str = Field(min_length=1, max_length=64, pattern=CLIENT_ID.pattern)
    quick_reply: bool = Field(default=False, description="the text is a quick-reply button the visitor pressed")
    locale: str | None = Field(default=None, max_length=35, description=LOCALE_HELP)


async def _ingest(runtime: Runtime, channel: Channel, event: InboundMessage) -> dict[str, Any]:
    """Store one visitor message through the common ingest path; returns {"message": view | None}."""
    result = await ingest_events(runtime, channel, [event])
    if not result.message_ids:
        # Parked by ingest for a retry: it is kept and will show up; nothing to return yet.
        return {"message": None, "queued": True}
    async with runtime.db.reads() as session:
        message = await session.get(Message, result.message_ids[0])
        assert message is not None
        views = await message_views(session, [message], _url_signer(runtime))
    return {"message": views[0] if views else None, "queued": False}


def _text(widget: WidgetSettings, text: str | None) -> str | None:
    """The visitor's text without surrounding space; None when it shows nothing (spaces, zero-width characters)."""
    if is_blank(text):
        return None
    cleaned = (text or "").strip()
    if len(cleaned) > widget.max_message_chars:
        raise Invalid(
            f"a message may have at most {widget.max_message_chars} characters; this one has {len(cleaned)}",
            code="text_too_long",
        )
    return cleaned or None


@router.post("/{channel_id}/sessions", status_code=201, response_model=SessionStarted)
async def start_session(
    channel_id: BoundedInt, body: SessionStart, request: Request, runtime: RuntimeDep
) -> SessionStarted:
    """Start a visitor session. With `user_id` and a valid `user_hash` the session writes as that user (history
    follows them across devices); a missing or wrong hash gives an anonymous session, never the user's history."""
    channel, widget = await _widget(request, runtime, channel_id)
    await _limit(runtime, widget.address_rate, channel, "address", _address(request))
    text = _text(widget, body.message)
    if widget.pre_chat_form == "required" and not (body.name and body.email):
        raise Invalid("this chat asks for your name and e-mail first", code="pre_chat_required")
    async with runtime.db.reads() as session:
        channel, _ = await widget_channel(session, channel_id)
    secret = runtime.box.open(channel.credentials).get("identity_secret")
    user = verified_user(secret, body.user_id, body.user_hash)
    session_id = new_session_id()
    visitor = VisitorSession(
        channel_id=channel.id,
        session_id=session_id,
        provider_id=f"u:{user}" if user else f"v:{session_id}",
        verified=user is not None,
        name=(body.name or "").strip() or None,
        email=str(body.email) if body.email else None,
    )
    if text:
        first = visitor_message(visitor, client_id="first", text=text, content=_locale_content(body.locale))
        await _ingest(runtime, channel, first)
    return SessionStarted(
        token=SessionSigner(runtime.settings.secret_key).issue(visitor),
        session_id=session_id,
        verified=visitor.verified,
        name=visitor.name,
        email=visitor.email,
    )


@router.get("/{channel_id}/sessions/{session_id}/messages")
async def session_history(
    channel_id: BoundedInt,
    session_id: Annotated[str, Path(max_length=64)],
    request: Request,
    runtime: RuntimeDep,
    before: Annotated[BoundedInt | None, Query(description="only messages older than this id")] = None,
) -> dict[str, Any]:
    """This session's messages, oldest first (100 at most; `has_more` and `before=` page back), and who handles
    the conversation now (`bot`, `human`, or null before the first message)."""
    channel, widget, visitor = await _visitor(request, runtime, channel_id, session_id)
    await _limit(runtime, widget.address_rate, channel, "address", _address(request))
    async with runtime.db.reads() as session:
        messages, has_more, latest = await history(session, visitor, _url_signer(runtime), before=before)
    return {
        "messages": messages,
        "has_more": has_more,
        "handler": latest.handler if latest is not None and latest.status != "resolved" else None,
    }


@router.post("/{channel_id}/sessions/{session_id}/messages", status_code=201)
async def send_message(
    channel_id: BoundedInt,
    session_id: Annotated[str, Path(max_length=64)],
    body: MessageIn,
    request: Request,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """The visitor writes. A repeated `client_id` returns the message stored the first time."""
    channel, widget, visitor = await _visitor(request, runtime, channel_id, session_id)
    await _count_message(request, runtime, widget, channel, visitor)
    text = _text(widget, body.text)
    if text is None:
        raise Invalid(
            "the message is empty: it has only spaces or invisible characters (such as zero-width spaces)",
            code="empty_message",
        )
    content = {**({"quick_reply": True} if body.quick_reply else {}), **_locale_content(body.locale)}
    return await _ingest(
        runtime, channel, visitor_message(visitor, client_id=body.client_id, text=text, content=content)
    )


async def _count_message(
    request: Request, runtime: Runtime, widget: WidgetSettings, channel: Channel, visitor: VisitorSession
) -> None:
    await _limit(runtime, widget.session_rate, channel, "session", visitor.session_id)
    await _limit(runtime, widget.address_rate, channel, "address", _address(request))


@router.post("/{channel_id}/sessions/{session_id}/attachments", status_code=201)
async def upload(
    channel_id: BoundedInt,
    session_id: Annotated[str, Path(max_length=64)],
    request: Request,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="an image (PNG, JPEG, GIF, WebP) or a PDF")],
    client_id: Annotated[str, Form(min_length=1, max_length=64, pattern=CLIENT_ID.pattern)],
    text: Annotated[str | None, Form(max_length=20_000)] = None,
) -> dict[str, Any]:
    """The visitor sends a file (with an optional caption). Its declared type must be one of the config's
    `upload_types` and agree with its bytes (422 `attachment_type` / `attachment_type_mismatch`); larger than
    `max_upload_bytes` (or the server's limit) is 413."""
    channel, widget, visitor = await _visitor(request, runtime, channel_id, session_id)
    await _count_message(request, runtime, widget, channel, visitor)
    caption = _text(widget, text)
    limit = min(widget.max_upload_bytes, runtime.settings.max_attachment_bytes)
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"files may be up to {limit // 1024} KB", code="attachment_too_large")
    if not data:
        raise Invalid("the file is empty", code="empty_file")
    declared = normalize(file.content_type or "application/octet-stream")
    if declared not in VERIFIED:
        raise Invalid(f"files of type {declared} cannot be sent here; send an image or a PDF", code="attachment_type")
    content_type = check_declared_type(data, declared)
    attachment = InboundAttachment(safe_filename(file.filename), content_type, data=data)
    event = visitor_message(visitor, client_id=client_id, text=caption, attachments=(attachment,))
    return await _ingest(runtime, channel, event)
