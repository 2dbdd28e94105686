"""Routes: the inbox — list and read conversations, reply, take over, hand back, assign, change status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from helpline.auth.dependencies import CurrentPrincipal, RuntimeDep
from helpline.auth.permissions import Principal
from helpline.conversations import actions, handling, queries
from helpline.conversations.models import Status
from helpline.conversations.schemas import (
    AssignRequest,
    ConversationPage,
    ConversationPublic,
    ConversationUpdate,
    MessagePage,
    MessagePublic,
    ReplyCreate,
    SnoozeRequest,
)
from helpline.engagement.reply_limits import MAX_FILES_PER_REPLY
from helpline.platform.errors import Invalid
from helpline.runtime import Runtime

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.get("", response_model=ConversationPage)
async def list_conversations(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    channel_kind: Annotated[list[str] | None, Query()] = None,
    channel_id: int | None = None,
    profile_id: int | None = None,
    event_id: int | None = None,
    status: Status | None = None,
    handler: Annotated[str | None, Query(pattern="^(bot|human)$")] = None,
    assignee: Annotated[str | None, Query(description="me, none or an operator id")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPage:
    filters = queries.ConversationFilters(
        channel_kinds=tuple(channel_kind or ()),
        channel_id=channel_id,
        profile_id=profile_id,
        event_id=event_id,
        status=status.value if status else None,
        handler=handler,
        assignee=assignee,
        q=q or None,
    )
    async with runtime.db.reads() as session:
        return await queries.list_conversations(session, principal, filters, cursor=cursor, limit=limit)


async def _visible(runtime: Runtime, principal: Principal, conversation_id: int) -> None:
    async with runtime.db.reads() as session:
        await queries.get_visible_conversation(session, principal, conversation_id)


async def _present(runtime: Runtime, conversation_id: int) -> ConversationPublic:
    async with runtime.db.reads() as session:
        return await queries.conversation_public(session, conversation_id)


@router.get("/{conversation_id}", response_model=ConversationPublic)
async def get_conversation(
    conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    return await _present(runtime, conversation_id)


@router.get("/{conversation_id}/messages", response_model=MessagePage)
async def list_messages(
    conversation_id: int,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    cursor: str | None = None,
    after: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    async with runtime.db.reads() as session:
        await queries.get_visible_conversation(session, principal, conversation_id)
        return await queries.list_messages(session, conversation_id, cursor=cursor, after=after, limit=limit)


async def _read_form(form: FormData, runtime: Runtime) -> tuple[ReplyCreate, list[actions.Upload]]:
    uploads: list[actions.Upload] = []
    for item in form.getlist("files"):
        if isinstance(item, str):
            raise Invalid("`files` must be file parts")
        data = await item.read()
        runtime.blobs.check_size(len(data))
        kind = item.content_type or "application/octet-stream"
        runtime.blobs.check_type(kind)
        uploads.append(actions.Upload(filename=item.filename, content_type=kind, data=data))
    text = form.get("text")
    reply_to = form.get("reply_to_id")
    try:
        body = ReplyCreate(
            text=text if isinstance(text, str) else None,
            reply_to_id=int(reply_to) if isinstance(reply_to, str) and reply_to else None,
        )
    except (ValidationError, ValueError) as exc:
        raise Invalid(f"bad form field: {exc}") from None
    return body, uploads


async def _read_reply(request: Request, runtime: Runtime) -> tuple[ReplyCreate, list[actions.Upload]]:
    """JSON {"text"} or multipart with `text` and `files`; sizes and types are checked before storing."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_FILES_PER_REPLY, max_fields=20)
        try:
            return await _read_form(form, runtime)
        finally:
            # Parts are spooled to temporary files; nothing else closes a form parsed by hand.
            await form.close()
    raw = await request.body()
    try:
        return ReplyCreate.model_validate_json(raw or b"{}"), []
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(
            f"{'.'.join(str(p) for p in first['loc']) or 'body'}: {first['msg']}", code="invalid_json"
        ) from None


@router.post(
    "/{conversation_id}/messages",
    response_model=MessagePublic,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ReplyCreate.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "text": {"type": "string"},
                            "reply_to_id": {"type": "integer"},
                            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                    }
                },
            },
        },
        "responses": {"409": {"description": "the reply window or the bot pause forbids this reply"}},
    },
)
async def post_reply(
    conversation_id: int, request: Request, principal: CurrentPrincipal, runtime: RuntimeDep
) -> MessagePublic:
    await _visible(runtime, principal, conversation_id)
    body, uploads = await _read_reply(request, runtime)
    async with runtime.db.transaction() as session:
        message = await actions.send_reply(
            session,
            conversation_id=conversation_id,
            author=actions.Author.operator(principal.operator_id),
            text=body.text,
            uploads=uploads,
            reply_to_id=body.reply_to_id,
            blobs=runtime.blobs,
            template=body.template,
        )
        return await queries.message_public(session, message)


@router.post("/{conversation_id}/takeover", response_model=ConversationPublic)
async def takeover(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.takeover(session, conversation_id, principal=principal)
    return await _present(runtime, conversation_id)


@router.post("/{conversation_id}/handback", response_model=ConversationPublic)
async def handback(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.handback(session, conversation_id, principal=principal)
    return await _present(runtime, conversation_id)


@router.post("/{conversation_id}/assign", response_model=ConversationPublic)
async def assign(
    conversation_id: int, body: AssignRequest, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.assign(session, conversation_id, body.operator_id, principal=principal)
    return await _present(runtime, conversation_id)


async def _set_status(
    runtime: Runtime,
    principal: Principal,
    conversation_id: int,
    status: Status,
    body: SnoozeRequest | None = None,
) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.set_status(
            session, conversation_id, status, principal=principal, snoozed_until=body.until if body else None
        )
    return await _present(runtime, conversation_id)


@router.post("/{conversation_id}/resolve", response_model=ConversationPublic)
async def resolve(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    return await _set_status(runtime, principal, conversation_id, Status.resolved)


@router.post("/{conversation_id}/reopen", response_model=ConversationPublic)
async def reopen(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    return await _set_status(runtime, principal, conversation_id, Status.open)


@router.post("/{conversation_id}/snooze", response_model=ConversationPublic)
async def snooze(
    conversation_id: int, body: SnoozeRequest, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    if body.until.tzinfo is None:
        raise Invalid("`until` needs a time zone (e.g. 2026-01-01T09:00:00Z)")
    return await _set_status(runtime, principal, conversation_id, Status.snoozed, body)


@router.post("/{conversation_id}/read", response_model=ConversationPublic)
async def mark_read(conversation_id: int, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.mark_read(session, conversation_id)
    return await _present(runtime, conversation_id)


@router.patch("/{conversation_id}", response_model=ConversationPublic)
async def update(
    conversation_id: int, body: ConversationUpdate, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.update_conversation(session, conversation_id, body, principal=principal)
    return await _present(runtime, conversation_id)
