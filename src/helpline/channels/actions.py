"""Writes for channels: create, update, rotate secrets, membership; credentials are sealed at rest."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.auth.models import Operator
from helpline.channels.base import ChannelConfig, PreparedChannel
from helpline.channels.models import Channel, ChannelMember
from helpline.channels.registry import adapter_class
from helpline.channels.schemas import ChannelCreate, ChannelUpdate
from helpline.platform.crypto import SecretBox
from helpline.platform.errors import Invalid, NotFound
from helpline.platform.netguard import check_target
from helpline.profiles.models import Event, Profile
from helpline.settings import Settings


def platform_options(settings: Settings) -> dict[str, Any]:
    """The process-wide provider options adapters may need (they never read Settings themselves)."""
    return {
        "meta_graph_url": settings.meta_graph_url,
        "meta_graph_version": settings.meta_graph_version,
        "meta_app_id": settings.meta_app_id,
        "meta_app_secret": settings.meta_app_secret,
    }


def channel_config(channel: Channel, box: SecretBox, settings: Settings | None = None) -> ChannelConfig:
    return ChannelConfig(
        id=channel.id,
        kind=channel.kind,
        name=channel.name,
        credentials=box.open(channel.credentials),
        settings=dict(channel.settings or {}),
        platform=platform_options(settings) if settings is not None else {},
    )


def _prepare(kind: str, credentials: dict[str, Any], settings: dict[str, Any]) -> PreparedChannel:
    try:
        return adapter_class(kind).prepare(credentials, settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}", code="bad_channel_config") from None


async def _check_outbound_targets(kind: str, prepared: PreparedChannel, *, allow_private: bool) -> None:
    """Refuse callback URLs that point inside our network, when they are saved (and again when used)."""
    for url in adapter_class(kind).outbound_urls(prepared.settings):
        await check_target(url, allow_private=allow_private)


async def _check_refs(session: AsyncSession, profile_id: int | None, event_id: int | None) -> None:
    if profile_id is not None and await session.get(Profile, profile_id) is None:
        raise Invalid("no such profile", code="unknown_profile")
    if event_id is not None and await session.get(Event, event_id) is None:
        raise Invalid("no such event", code="unknown_event")


async def set_members(session: AsyncSession, channel_id: int, operator_ids: list[int]) -> None:
    wanted = set(operator_ids)
    if wanted:
        found = set((await session.execute(select(Operator.id).where(Operator.id.in_(wanted)))).scalars())
        if missing := wanted - found:
            raise Invalid(f"unknown operator ids: {sorted(missing)}", code="unknown_operator")
    await session.execute(delete(ChannelMember).where(ChannelMember.channel_id == channel_id))
    session.add_all(ChannelMember(channel_id=channel_id, operator_id=oid) for oid in sorted(wanted))
    # Sessions do not autoflush: without this, member_ids() in the same transaction reads the old list.
    await session.flush()


async def member_ids(session: AsyncSession, channel_id: int) -> list[int]:
    return sorted(
        (
            await session.execute(select(ChannelMember.operator_id).where(ChannelMember.channel_id == channel_id))
        ).scalars()
    )


async def create_channel(
    session: AsyncSession, data: ChannelCreate, *, box: SecretBox, actor_id: int | None, allow_private: bool
) -> tuple[Channel, dict[str, Any]]:
    prepared = _prepare(data.kind, data.credentials, data.settings)
    await _check_outbound_targets(data.kind, prepared, allow_private=allow_private)
    await _check_refs(session, data.profile_id, data.default_event_id)
    channel = Channel(
        kind=data.kind,
        name=data.name,
        profile_id=data.profile_id,
        default_event_id=data.default_event_id,
        credentials=box.seal(prepared.credentials),
        settings=prepared.settings,
        status="active",
    )
    session.add(channel)
    await session.flush()
    await set_members(session, channel.id, data.member_ids)
    record(
        session,
        operator_id=actor_id,
        action="channel.created",
        target_type="channel",
        target_id=channel.id,
        details={"kind": channel.kind, "name": channel.name},
    )
    return channel, prepared.reveal


async def update_channel(
    session: AsyncSession,
    channel_id: int,
    data: ChannelUpdate,
    *,
    box: SecretBox,
    actor_id: int,
    allow_private: bool,
) -> tuple[Channel, dict[str, Any]]:
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("no such channel")
    changes = data.model_dump(exclude_unset=True)
    reveal: dict[str, Any] = {}
    if "settings" in changes or "credentials" in changes:
        credentials = changes.get("credentials")
        if credentials is None:
            credentials = box.open(channel.credentials)
        settings = changes.get("settings") if changes.get("settings") is not None else channel.settings
        prepared = _prepare(channel.kind, credentials, dict(settings or {}))
        await _check_outbound_targets(channel.kind, prepared, allow_private=allow_private)
        channel.credentials = box.seal(prepared.credentials)
        channel.settings = prepared.settings
        reveal = prepared.reveal
    await _check_refs(session, changes.get("profile_id"), changes.get("default_event_id"))
    for field in ("name", "profile_id", "default_event_id", "status"):
        if field in changes and (changes[field] is not None or field in ("profile_id", "default_event_id")):
            setattr(channel, field, changes[field])
    if changes.get("status") == "active":
        channel.status_reason = None
    if changes.get("member_ids") is not None:
        await set_members(session, channel.id, changes["member_ids"])
    record(
        session,
        operator_id=actor_id,
        action="channel.updated",
        target_type="channel",
        target_id=channel.id,
        details={
            "fields": sorted(k for k in changes if k != "credentials")
            + (["credentials"] if "credentials" in changes else []),
            # Membership changes are access changes: name who may now see the channel.
            **({"member_ids": sorted(changes["member_ids"])} if changes.get("member_ids") is not None else {}),
        },
    )
    return channel, reveal


async def delete_channel(session: AsyncSession, channel_id: int, *, actor_id: int) -> None:
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("no such channel")
    await session.delete(channel)
    record(
        session,
        operator_id=actor_id,
        action="channel.deleted",
        target_type="channel",
        target_id=channel_id,
        details={"kind": channel.kind, "name": channel.name},
    )


async def mark_needs_reauth(session: AsyncSession, channel_id: int, reason: str) -> None:
    channel = await session.get(Channel, channel_id)
    if channel is not None and channel.status != "needs_reauth":
        channel.status = "needs_reauth"
        channel.status_reason = reason
        record(
            session,
            operator_id=None,
            action="channel.needs_reauth",
            target_type="channel",
            target_id=channel_id,
            details={"reason": reason},
        )
