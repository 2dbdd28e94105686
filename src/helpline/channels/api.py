"""Routes: channel management (admins), the channels an operator can see, and the generic API inbound."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from helpline.auth.dependencies import AdminPrincipal, CurrentPrincipal, RuntimeDep
from helpline.channels import actions
from helpline.channels.api_inbound import accept_api_inbound, checked_channel
from helpline.channels.base import InboundEvent
from helpline.channels.models import Channel
from helpline.channels.reauth import recheck_credentials
from helpline.channels.registry import build_adapter
from helpline.channels.schemas import (
    ChannelCreate,
    ChannelPublic,
    ChannelUpdate,
    ChannelWithSecrets,
    DoctorCheck,
    DoctorReport,
)
from helpline.channels.signing_cache import SigningCache
from helpline.compliance.doctor import META_KINDS, run_doctor, target_for
from helpline.conversations.raw_inbound import Parser, ingest_now
from helpline.engagement.reply_limits import ChannelLimits, channel_limits
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import Invalid, NotFound
from helpline.runtime import Runtime

router = APIRouter(prefix="/channels", tags=["channels"])


async def _public(runtime: Runtime, session, channel: Channel) -> ChannelPublic:  # type: ignore[no-untyped-def]
    return ChannelPublic(
        id=channel.id,
        kind=channel.kind,
        name=channel.name,
        profile_id=channel.profile_id,
        default_event_id=channel.default_event_id,
        settings=dict(channel.settings or {}),
        status=channel.status,
        status_reason=channel.status_reason,
        member_ids=await actions.member_ids(session, channel.id),
        inbound_url=f"{runtime.settings.base_url}/api/v1/channels/{channel.id}/inbound"
        if channel.kind == "api"
        else None,
        created_at=channel.created_at,
    )


@router.get("", response_model=list[ChannelPublic])
async def list_channels(principal: CurrentPrincipal, runtime: RuntimeDep) -> list[ChannelPublic]:
    async with runtime.db.reads() as session:
        rows = (
            await session.execute(select(Channel).where(principal.channel_filter(Channel.id)).order_by(Channel.id))
        ).scalars()
        return [await _public(runtime, session, c) for c in rows]


@router.post("", response_model=ChannelWithSecrets, status_code=201)
async def create_channel(body: ChannelCreate, principal: AdminPrincipal, runtime: RuntimeDep) -> ChannelWithSecrets:
    async with runtime.db.transaction() as session:
        channel, reveal = await actions.create_channel(
            session,
            body,
            box=runtime.box,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
        public = await _public(runtime, session, channel)
    return ChannelWithSecrets(**public.model_dump(), secrets=reveal)


@router.get("/{channel_id}", response_model=ChannelPublic)
async def get_channel(channel_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ChannelPublic:
    async with runtime.db.reads() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None or not principal.can_see_channel(channel.id):
            raise NotFound("no such channel")
        return await _public(runtime, session, channel)


@router.get("/{channel_id}/limits", response_model=ChannelLimits)
async def get_limits(channel_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ChannelLimits:
    """What one reply on this channel may hold, to check before sending (members of the channel; 404 otherwise).

    `max_text_length` is the provider's limit (WhatsApp 4096, Messenger 1999 — "under 2000" —, Instagram 999)
    capped by the API's 20000; files must match the server's `accepted_content_types` and, when the provider
    has per-type rules, the first matching `attachment_rules` entry. `POST /conversations/{id}/messages`
    refuses a reply over these limits with 422 (`text_too_long`, `attachment_type`, `attachment_too_large`).
    `window_kind` says what may still be sent after the free-form window closes: `templates` (WhatsApp),
    `human_agent` (Messenger and Instagram: people only, 7 days), or `none` for channels without a window.
    """
    async with runtime.db.reads() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None or not principal.can_see_channel(channel.id):
            raise NotFound("no such channel")
        return channel_limits(channel.id, channel.kind, runtime.settings)


@router.get("/{channel_id}/doctor", response_model=DoctorReport)
async def doctor(
    channel_id: BoundedInt, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> DoctorReport:
    """The Meta doctor's checklist for one WhatsApp, Messenger or Instagram channel (admins): the app-wide
    checks (public HTTPS base URL, app secret, verify token, privacy policy, data-deletion callback, webhook
    verification) and the channel's own against the Graph API (token valid and not expiring within 7 days,
    permissions, webhook subscription), each `ok`, `warn` or `fail` with the fix in words.

    The Graph API is asked live (`HELPLINE_META_GRAPH_URL`); the public pages are requested from this server
    itself at their `HELPLINE_BASE_URL` paths — `helpline meta doctor` also fetches them over the network.
    Other channel kinds get 422 `not_meta`.
    """
    async with runtime.db.reads() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None:
            raise NotFound("no such channel")
    if channel.kind not in META_KINDS:
        raise Invalid(
            f"the Meta doctor checks WhatsApp, Messenger and Instagram channels; this one is {channel.kind}",
            code="not_meta",
        )
    target = target_for(channel, runtime.box)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), timeout=15) as itself:
        checks = await run_doctor(runtime.settings, [target], graph=runtime.http, app=itself)
    items = [
        DoctorCheck(id=c.id, title=c.name, status=c.status, message=c.detail, fix=c.fix if c.status != "ok" else "")
        for c in checks
    ]
    return DoctorReport(
        channel_id=channel.id,
        checks=items,
        passed=sum(c.status == "ok" for c in items),
        warnings=sum(c.status == "warn" for c in items),
        failed=sum(c.status == "fail" for c in items),
    )


@router.patch("/{channel_id}", response_model=ChannelWithSecrets)
async def update_channel(
    channel_id: BoundedInt, body: ChannelUpdate, principal: AdminPrincipal, runtime: RuntimeDep
) -> ChannelWithSecrets:
    async with runtime.db.transaction() as session:
        _, reveal = await actions.update_channel(
            session,
            channel_id,
            body,
            box=runtime.box,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
    if body.credentials is not None:
        # New credentials clear needs_reauth only once the provider accepts them.
        await recheck_credentials(runtime, channel_id, actor_id=principal.operator_id)
    async with runtime.db.reads() as session:
        current = await session.get(Channel, channel_id)
        assert current is not None
        public = await _public(runtime, session, current)
    return ChannelWithSecrets(**public.model_dump(), secrets=reveal)


@router.post("/{channel_id}/rotate-secret", response_model=ChannelWithSecrets)
async def rotate_secret(channel_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> ChannelWithSecrets:
    """Issue a new signing secret for a generic API channel; the old one stops working at once."""
    async with runtime.db.transaction() as session:
        channel = await session.get(Channel, channel_id)
        if channel is None:
            raise NotFound("no such channel")
        if channel.kind != "api":
            raise Invalid("only API channels have a Helpline-issued signing secret")
        channel, reveal = await actions.update_channel(
            session,
            channel_id,
            ChannelUpdate(credentials={}),
            box=runtime.box,
            actor_id=principal.operator_id,
            allow_private=runtime.settings.allow_private_targets,
        )
        public = await _public(runtime, session, channel)
    return ChannelWithSecrets(**public.model_dump(), secrets=reveal)


@router.delete("/{channel_id}", status_code=204)
async def delete_channel(channel_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    async with runtime.db.transaction() as session:
        await actions.delete_channel(session, channel_id, actor_id=principal.operator_id)
    return Response(status_code=204)


def channel_parser(runtime: Runtime) -> Parser:
    """How a raw body logged for a channel becomes events: its adapter's `parse_webhook` (the API channel's
    wire contract; raises PayloadInvalid)."""

    def parse(channel: Channel, body: bytes) -> list[InboundEvent]:
        return build_adapter(actions.channel_config(channel, runtime.box), runtime.http).parse_webhook(body)

    return parse


@router.post(
    "/{channel_id}/inbound",
    responses={
        200: {
            "description": (
                'Accepted: `{"status": "accepted", "inbound_event_id": <log row id>, "duplicate": <bool>}`. '
                "A byte-identical body still waiting in the inbound log answers that row's id with "
                "`duplicate: true` and stores nothing; once ingested, the same body is logged again (new id) and "
                "its message.id is recognised as already stored when the row is processed. With "
                '`Prefer: return=representation`: `{"message_ids": [...], "duplicates": n, "failed": n}`.'
            ),
            "content": {
                "application/json": {
                    "examples": {
                        "accepted": {"value": {"status": "accepted", "inbound_event_id": 41, "duplicate": False}},
                        "same body again": {"value": {"status": "accepted", "inbound_event_id": 41, "duplicate": True}},
                        "return=representation": {"value": {"message_ids": [1234], "duplicates": 0, "failed": 0}},
                    }
                }
            },
        },
        401: {"description": "bad or missing X-Helpline-Signature; nothing stored"},
        415: {"description": "Content-Type is not application/json (optionally charset=utf-8); nothing stored"},
        429: {"description": "over HELPLINE_INBOUND_CHANNEL_LIMIT; nothing stored, retry after Retry-After"},
    },
)
async def inbound(
    channel_id: BoundedInt, request: Request, response: Response, runtime: RuntimeDep
) -> dict[str, object]:
    """A customer message from the system behind a generic API channel, signed with the channel secret.

    Accept fast: the verified body is stored in the inbound log with one INSERT and the answer is
    `{"status": "accepted", "inbound_event_id": …, "duplicate": …}` (a byte-identical body still waiting in
    the log answers that row's id with `duplicate: true`);
    workers turn it into contact, conversation and message within milliseconds. A sender that wants the
    stored message ids back sends `Prefer: return=representation` (RFC 7240 §4.2): the same log row is
    ingested before the answer, `{"message_ids": […], "duplicates": n, "failed": n}`, with
    `Preference-Applied: return=representation`."""
    body = await request.body()
    cache: SigningCache = request.app.state.signing_cache
    headers = {k.lower(): v for k, v in request.headers.items()}
    if "return=representation" not in request.headers.get("prefer", "").replace(" ", "").lower():
        return await accept_api_inbound(runtime, cache, channel_id, headers, body)
    # This path stores without the version guard, so it judges by the stored row, not the cache.
    await cache.reload(channel_id)
    await checked_channel(runtime, cache, channel_id, headers, body)
    async with runtime.db.statements(readonly=True) as session:
        channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("no such API channel")
    result = await ingest_now(runtime, channel, body, channel_parser(runtime))
    response.headers["Preference-Applied"] = "return=representation"
    return {"message_ids": result.message_ids, "duplicates": result.duplicates, "failed": result.failed}
