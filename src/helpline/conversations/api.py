"""Routes: the inbox — list and read conversations, reply, take over, hand back, assign, change status."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import FormData

from helpline.auth.dependencies import CurrentPrincipal, RuntimeDep
from helpline.auth.models import Operator
from helpline.auth.permissions import Principal
from helpline.conversations import actions, counts, handling, queries
from helpline.conversations.models import Priority, Status
from helpline.conversations.schemas import (
    CLIENT_ID_PATTERN,
    AssignRequest,
    ConversationCounts,
    ConversationPage,
    ConversationPublic,
    ConversationUpdate,
    MessagePage,
    MessagePublic,
    ReplyCreate,
    SnoozeRequest,
)
from helpline.engagement.reply_limits import MAX_FILES_PER_REPLY
from helpline.platform.api_contract import JSON_SAFE_MAX, BoundedInt
from helpline.platform.errors import Invalid
from helpline.realtime.frames import TYPING_FRAME
from helpline.runtime import Runtime

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.get("", response_model=ConversationPage)
async def list_conversations(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    channel_kind: Annotated[list[str] | None, Query()] = None,
    channel_id: BoundedInt | None = None,
    profile_id: BoundedInt | None = None,
    event_id: BoundedInt | None = None,
    contact_id: BoundedInt | None = None,
    status: Annotated[list[Status] | None, Query(description="repeat for several: status=open&status=pending")] = None,
    priority: Annotated[list[Priority] | None, Query(description="repeatable")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    window: Annotated[
        Literal["open", "closing", "closed"] | None,
        Query(description="the reply window's state; channels without a window never match"),
    ] = None,
    waiting: Annotated[
        bool | None, Query(description="waiting for a human (see ConversationPublic.waiting_since)")
    ] = None,
    handler: Annotated[str | None, Query(pattern="^(bot|human)$")] = None,
    assignee: Annotated[str | None, Query(description="me, none or an operator id")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[
        Literal["recent", "waiting"],
        Query(
            description="recent: newest activity first; waiting: oldest unanswered customer message first, then "
            "the conversations nobody waits on. A cursor only continues the sort it was made for."
        ),
    ] = "recent",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPage:
    filters = queries.ConversationFilters(
        channel_kinds=tuple(channel_kind or ()),
        channel_id=channel_id,
        profile_id=profile_id,
        event_id=event_id,
        contact_id=contact_id,
        statuses=tuple(s.value for s in status or ()),
        priorities=tuple(p.value for p in priority or ()),
        tag=tag or None,
        window=window,
        waiting=waiting,
        handler=handler,
        assignee=assignee,
        q=q or None,
    )
    async with runtime.db.reads() as session:
        return await queries.list_conversations(session, principal, filters, cursor=cursor, limit=limit, sort=sort)


@router.get("/counts", response_model=ConversationCounts)
async def conversation_counts(principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationCounts:
    """Counts per preset view (with each preset's list query), per channel, per assignee, and the oldest wait
    for a human, over the conversations this operator may see. Two grouped queries: cheap to call after frames."""
    async with runtime.db.reads() as session:
        return await counts.conversation_counts(session, principal)


async def _visible(runtime: Runtime, principal: Principal, conversation_id: int) -> None:
    async with runtime.db.reads() as session:
        await queries.get_visible_conversation(session, principal, conversation_id)


async def _present(runtime: Runtime, conversation_id: int) -> ConversationPublic:
    async with runtime.db.reads() as session:
        return await queries.conversation_public(session, conversation_id)


@router.get("/{conversation_id}", response_model=ConversationPublic)
async def get_conversation(
    conversation_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    return await _present(runtime, conversation_id)


@router.get("/{conversation_id}/messages", response_model=MessagePage)
async def list_messages(
    conversation_id: BoundedInt,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    cursor: str | None = None,
    after: BoundedInt | None = None,
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
    client_id = form.get("client_id")
    try:
        body = ReplyCreate(
            text=text if isinstance(text, str) else None,
            reply_to_id=int(reply_to) if isinstance(reply_to, str) and reply_to else None,
            client_id=client_id if isinstance(client_id, str) and client_id else None,
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
                            "reply_to_id": {"type": "integer", "minimum": 1, "maximum": JSON_SAFE_MAX},
                            "client_id": {"type": "string", "maxLength": 64, "pattern": CLIENT_ID_PATTERN},
                            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                    }
                },
            },
        },
        "responses": {
            "200": {
                "description": "a message with this client_id was already sent in this conversation: that message",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessagePublic"}}},
            },
            "409": {"description": "the reply window or the bot pause forbids this reply"},
        },
    },
)
async def post_reply(
    conversation_id: BoundedInt, request: Request, response: Response, principal: CurrentPrincipal, runtime: RuntimeDep
) -> MessagePublic:
    """201 with the new message; 200 with the earlier one when `client_id` was already used here."""
    await _visible(runtime, principal, conversation_id)
    body, uploads = await _read_reply(request, runtime)
    try:
        async with runtime.db.transaction() as session:
            if body.client_id:
                # Under the conversation's row lock, so a concurrent retry waits and then finds this one.
                await actions.lock_conversation(session, conversation_id)
                earlier = await actions.find_by_client_id(session, conversation_id, body.client_id)
                if earlier is not None:
                    response.status_code = 200
                    return await queries.message_public(session, earlier)
            message = await actions.send_reply(
                session,
                conversation_id=conversation_id,
                author=actions.Author.operator(principal.operator_id),
                text=body.text,
                uploads=uploads,
                reply_to_id=body.reply_to_id,
                blobs=runtime.blobs,
                template=body.template,
                client_id=body.client_id,
            )
            return await queries.message_public(session, message)
    except IntegrityError:
        # The unique (conversation, client_id) index caught a send that slipped past the lock.
        if not body.client_id:
            raise
        async with runtime.db.reads() as session:
            earlier = await actions.find_by_client_id(session, conversation_id, body.client_id)
            if earlier is None:
                raise
            response.status_code = 200
            return await queries.message_public(session, earlier)


@router.post("/{conversation_id}/takeover", response_model=ConversationPublic)
async def takeover(conversation_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.takeover(session, conversation_id, principal=principal)
    return await _present(runtime, conversation_id)


@router.post("/{conversation_id}/handback", response_model=ConversationPublic)
async def handback(conversation_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.handback(session, conversation_id, principal=principal)
    return await _present(runtime, conversation_id)


@router.post("/{conversation_id}/assign", response_model=ConversationPublic)
async def assign(
    conversation_id: BoundedInt, body: AssignRequest, principal: CurrentPrincipal, runtime: RuntimeDep
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
async def resolve(conversation_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    return await _set_status(runtime, principal, conversation_id, Status.resolved)


@router.post("/{conversation_id}/reopen", response_model=ConversationPublic)
async def reopen(conversation_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ConversationPublic:
    return await _set_status(runtime, principal, conversation_id, Status.open)


@router.post("/{conversation_id}/snooze", response_model=ConversationPublic)
async def snooze(
    conversation_id: BoundedInt, body: SnoozeRequest, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    if body.until.tzinfo is None:
        raise Invalid("`until` needs a time zone (e.g. 2026-01-01T09:00:00Z)")
    return await _set_status(runtime, principal, conversation_id, Status.snoozed, body)


@router.post("/{conversation_id}/read", response_model=ConversationPublic)
async def mark_read(
    conversation_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.mark_read(session, conversation_id)
    return await _present(runtime, conversation_id)


@router.post("/{conversation_id}/typing", status_code=204, responses={204: {"description": "announced"}})
async def typing(conversation_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    """The operator is typing a reply: a `conversation.typing` frame for the channel's operators and, where the
    channel shows it (the website chat), for the customer. Nothing is stored; clients send one every few seconds
    at most while typing."""
    async with runtime.db.reads() as session:
        conversation = await queries.get_visible_conversation(session, principal, conversation_id)
        operator = await session.get(Operator, principal.operator_id)
    await runtime.broker.publish(
        {
            "type": TYPING_FRAME,
            "audience": {"channel_id": conversation.channel_id},
            "conversation_id": conversation.id,
            "data": {
                "conversation_id": conversation.id,
                "who": "operator",
                "operator": {"id": principal.operator_id, "name": operator.name if operator else None},
            },
        }
    )
    return Response(status_code=204)


@router.patch("/{conversation_id}", response_model=ConversationPublic)
async def update(
    conversation_id: BoundedInt, body: ConversationUpdate, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ConversationPublic:
    await _visible(runtime, principal, conversation_id)
    async with runtime.db.transaction() as session:
        await handling.update_conversation(session, conversation_id, body, principal=principal)
    return await _present(runtime, conversation_id)
