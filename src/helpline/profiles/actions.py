"""Writes for profiles and events (admins), including their logos."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.actions import store_bytes
from helpline.audit.actions import record
from helpline.platform.errors import Conflict, Invalid, NotFound
from helpline.platform.storage import BlobStore
from helpline.profiles.models import Event, Profile

LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
LOGO_MAX_BYTES = 2 * 1024 * 1024


async def create_profile(session: AsyncSession, *, name: str, description: str | None, actor_id: int | None) -> Profile:
    profile = Profile(name=name, description=description)
    session.add(profile)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a profile named {name!r} already exists", code="duplicate_name") from None
    record(
        session,
        operator_id=actor_id,
        action="profile.created",
        target_type="profile",
        target_id=profile.id,
        details={"name": name},
    )
    return profile


async def update_row(
    session: AsyncSession,
    model: type[Profile] | type[Event],
    row_id: int,
    changes: dict[str, Any],
    *,
    actor_id: int,
) -> Profile | Event:
    row: Profile | Event | None = await session.get(model, row_id)
    if row is None:
        raise NotFound(f"no such {model.__tablename__[:-1]}")
    if changes.get("profile_id") is not None and await session.get(Profile, changes["profile_id"]) is None:
        raise Invalid("no such profile", code="unknown_profile")
    for field, value in changes.items():
        setattr(row, field, value)
    if isinstance(row, Event) and row.starts_on and row.ends_on and row.ends_on < row.starts_on:
        raise Invalid("ends_on is before starts_on")
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("that name is taken", code="duplicate_name") from None
    kind = model.__tablename__[:-1]
    record(
        session,
        operator_id=actor_id,
        action=f"{kind}.updated",
        target_type=kind,
        target_id=row.id,
        details={k: str(v) for k, v in changes.items()},
    )
    return row


async def create_event(session: AsyncSession, data: dict[str, Any], *, actor_id: int | None) -> Event:
    if data.get("profile_id") is not None and await session.get(Profile, data["profile_id"]) is None:
        raise Invalid("no such profile", code="unknown_profile")
    event = Event(**data)
    session.add(event)
    await session.flush()
    record(
        session,
        operator_id=actor_id,
        action="event.created",
        target_type="event",
        target_id=event.id,
        details={"name": event.name},
    )
    return event


async def delete_row(
    session: AsyncSession, model: type[Profile] | type[Event], row_id: int, *, actor_id: int | None
) -> None:
    row: Profile | Event | None = await session.get(model, row_id)
    if row is None:
        raise NotFound(f"no such {model.__tablename__[:-1]}")
    await session.delete(row)
    kind = model.__tablename__[:-1]
    record(
        session,
        operator_id=actor_id,
        action=f"{kind}.deleted",
        target_type=kind,
        target_id=row_id,
        details={"name": row.name},
    )


async def set_logo(
    session: AsyncSession,
    blobs: BlobStore,
    model: type[Profile] | type[Event],
    row_id: int,
    *,
    data: bytes,
    filename: str | None,
    content_type: str,
    actor_id: int | None,
) -> Profile | Event:
    row: Profile | Event | None = await session.get(model, row_id)
    if row is None:
        raise NotFound(f"no such {model.__tablename__[:-1]}")
    if content_type not in LOGO_TYPES:
        raise Invalid(f"a logo must be one of {', '.join(LOGO_TYPES)}", code="attachment_type")
    if len(data) > LOGO_MAX_BYTES:
        raise Invalid(f"a logo may be at most {LOGO_MAX_BYTES} bytes", code="too_large")
    attachment = store_bytes(session, blobs, data=data, filename=filename, content_type=content_type, message_id=None)
    await session.flush()
    row.logo_attachment_id = attachment.id
    kind = model.__tablename__[:-1]
    record(session, operator_id=actor_id, action=f"{kind}.logo_changed", target_type=kind, target_id=row.id)
    return row
