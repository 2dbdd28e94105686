"""Routes: profiles and events — everyone reads them (inbox filters), admins change them."""

from __future__ import annotations

from fastapi import APIRouter, Response, UploadFile
from sqlalchemy import select

from helpline.auth.dependencies import AdminPrincipal, CurrentPrincipal, RuntimeDep
from helpline.conversations.queries import logo_url
from helpline.platform.api_contract import BoundedInt
from helpline.platform.errors import NotFound
from helpline.profiles import actions
from helpline.profiles.models import Event, Profile
from helpline.profiles.schemas import (
    EventCreate,
    EventPublic,
    EventUpdate,
    ProfileCreate,
    ProfilePublic,
    ProfileUpdate,
)
from helpline.runtime import Runtime

router = APIRouter(tags=["profiles and events"])


def _profile(p: Profile) -> ProfilePublic:
    return ProfilePublic(
        id=p.id,
        name=p.name,
        description=p.description,
        logo_url=logo_url(p.logo_attachment_id),
        created_at=p.created_at,
    )


def _event(e: Event) -> EventPublic:
    return EventPublic(
        id=e.id,
        name=e.name,
        profile_id=e.profile_id,
        description=e.description,
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        logo_url=logo_url(e.logo_attachment_id),
        created_at=e.created_at,
    )


async def _upload_logo(
    runtime: Runtime, model: type[Profile] | type[Event], row_id: int, file: UploadFile, actor_id: int
) -> Profile | Event:
    data = await file.read(actions.LOGO_MAX_BYTES + 1)
    async with runtime.db.transaction() as session:
        return await actions.set_logo(
            session,
            runtime.blobs,
            model,
            row_id,
            data=data,
            filename=file.filename,
            content_type=file.content_type or "application/octet-stream",
            actor_id=actor_id,
        )


@router.get("/profiles", response_model=list[ProfilePublic])
async def list_profiles(principal: CurrentPrincipal, runtime: RuntimeDep) -> list[ProfilePublic]:
    async with runtime.db.reads() as session:
        return [_profile(p) for p in (await session.execute(select(Profile).order_by(Profile.name))).scalars()]


@router.post("/profiles", response_model=ProfilePublic, status_code=201)
async def create_profile(body: ProfileCreate, principal: AdminPrincipal, runtime: RuntimeDep) -> ProfilePublic:
    async with runtime.db.transaction() as session:
        return _profile(
            await actions.create_profile(
                session, name=body.name, description=body.description, actor_id=principal.operator_id
            )
        )


@router.get("/profiles/{profile_id}", response_model=ProfilePublic)
async def get_profile(profile_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ProfilePublic:
    async with runtime.db.reads() as session:
        profile = await session.get(Profile, profile_id)
        if profile is None:
            raise NotFound("no such profile")
        return _profile(profile)


@router.patch("/profiles/{profile_id}", response_model=ProfilePublic)
async def update_profile(
    profile_id: BoundedInt, body: ProfileUpdate, principal: AdminPrincipal, runtime: RuntimeDep
) -> ProfilePublic:
    async with runtime.db.transaction() as session:
        row = await actions.update_row(
            session, Profile, profile_id, body.model_dump(exclude_unset=True), actor_id=principal.operator_id
        )
        assert isinstance(row, Profile)
        return _profile(row)


@router.delete("/profiles/{profile_id}", status_code=204)
async def delete_profile(profile_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    async with runtime.db.transaction() as session:
        await actions.delete_row(session, Profile, profile_id, actor_id=principal.operator_id)
    return Response(status_code=204)


@router.put("/profiles/{profile_id}/logo", response_model=ProfilePublic)
async def upload_profile_logo(
    profile_id: BoundedInt, file: UploadFile, principal: AdminPrincipal, runtime: RuntimeDep
) -> ProfilePublic:
    row = await _upload_logo(runtime, Profile, profile_id, file, principal.operator_id)
    assert isinstance(row, Profile)
    return _profile(row)


@router.get("/events", response_model=list[EventPublic])
async def list_events(
    principal: CurrentPrincipal, runtime: RuntimeDep, profile_id: BoundedInt | None = None
) -> list[EventPublic]:
    async with runtime.db.reads() as session:
        stmt = select(Event).order_by(Event.starts_on.desc(), Event.name)
        if profile_id is not None:
            stmt = stmt.where(Event.profile_id == profile_id)
        return [_event(e) for e in (await session.execute(stmt)).scalars()]


@router.post("/events", response_model=EventPublic, status_code=201)
async def create_event(body: EventCreate, principal: AdminPrincipal, runtime: RuntimeDep) -> EventPublic:
    async with runtime.db.transaction() as session:
        return _event(await actions.create_event(session, body.model_dump(), actor_id=principal.operator_id))


@router.get("/events/{event_id}", response_model=EventPublic)
async def get_event(event_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> EventPublic:
    async with runtime.db.reads() as session:
        event = await session.get(Event, event_id)
        if event is None:
            raise NotFound("no such event")
        return _event(event)


@router.patch("/events/{event_id}", response_model=EventPublic)
async def update_event(
    event_id: BoundedInt, body: EventUpdate, principal: AdminPrincipal, runtime: RuntimeDep
) -> EventPublic:
    async with runtime.db.transaction() as session:
        row = await actions.update_row(
            session, Event, event_id, body.model_dump(exclude_unset=True), actor_id=principal.operator_id
        )
        assert isinstance(row, Event)
        return _event(row)


@router.delete("/events/{event_id}", status_code=204)
async def delete_event(event_id: BoundedInt, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    async with runtime.db.transaction() as session:
        await actions.delete_row(session, Event, event_id, actor_id=principal.operator_id)
    return Response(status_code=204)


@router.put("/events/{event_id}/logo", response_model=EventPublic)
async def upload_event_logo(
    event_id: BoundedInt, file: UploadFile, principal: AdminPrincipal, runtime: RuntimeDep
) -> EventPublic:
    row = await _upload_logo(runtime, Event, event_id, file, principal.operator_id)
    assert isinstance(row, Event)
    return _event(row)
