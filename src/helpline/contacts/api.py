"""Routes: contacts — read and correct them, list identities, notes, merge two explicitly (supervisors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import exists, func, or_, select

from helpline.auth.dependencies import CurrentPrincipal, RuntimeDep, SupervisorPrincipal
from helpline.auth.permissions import Principal
from helpline.contacts import actions, notes
from helpline.contacts.models import Contact, ContactIdentity
from helpline.contacts.schemas import (
    ContactPage,
    ContactPublic,
    ContactUpdate,
    IdentityPublic,
    MergeRequest,
    NoteCreate,
    NotePublic,
)
from helpline.conversations.models import Conversation
from helpline.platform.api_contract import BoundedInt, parse_int
from helpline.platform.errors import Invalid, NotFound
from helpline.platform.like import LIKE_ESCAPE, contains_pattern

router = APIRouter(prefix="/contacts", tags=["contacts"])


def _visible_contact_clause(principal: Principal):  # type: ignore[no-untyped-def]
    """Agents see the contacts that have a conversation in one of their channels."""
    return exists().where(Conversation.contact_id == Contact.id, principal.channel_filter(Conversation.channel_id))


async def _get_visible(session, principal: Principal, contact_id: int) -> Contact:  # type: ignore[no-untyped-def]
    stmt = select(Contact).where(Contact.id == contact_id)
    if not principal.sees_all_channels:
        stmt = stmt.where(_visible_contact_clause(principal))
    contact: Contact | None = (await session.execute(stmt)).scalar_one_or_none()
    if contact is None:
        raise NotFound("no such contact")
    return contact


@router.get("", response_model=ContactPage)
async def list_contacts(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ContactPage:
    stmt = select(Contact).where(Contact.merged_into_id.is_(None))
    if not principal.sees_all_channels:
        stmt = stmt.where(_visible_contact_clause(principal))
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(
                func.lower(Contact.name).like(pattern, escape=LIKE_ESCAPE),
                func.lower(Contact.email).like(pattern, escape=LIKE_ESCAPE),
                Contact.phone.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    if cursor:
        if (before := parse_int(cursor)) is None:
            raise Invalid("malformed cursor", code="bad_cursor")
        stmt = stmt.where(Contact.id < before)
    async with runtime.db.reads() as session:
        rows = list((await session.execute(stmt.order_by(Contact.id.desc()).limit(limit + 1))).scalars())
    items = [ContactPublic.model_validate(c) for c in rows[:limit]]
    return ContactPage(items=items, next_cursor=str(rows[limit - 1].id) if len(rows) > limit else None)


@router.get("/{contact_id}", response_model=ContactPublic)
async def get_contact(contact_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> ContactPublic:
    async with runtime.db.reads() as session:
        return ContactPublic.model_validate(await _get_visible(session, principal, contact_id))


@router.patch("/{contact_id}", response_model=ContactPublic)
async def update_contact(
    contact_id: BoundedInt, body: ContactUpdate, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ContactPublic:
    async with runtime.db.transaction() as session:
        await _get_visible(session, principal, contact_id)
        contact = await actions.update_contact(session, contact_id, body, actor_id=principal.operator_id)
        return ContactPublic.model_validate(contact)


@router.get("/{contact_id}/identities", response_model=list[IdentityPublic])
async def list_identities(
    contact_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep
) -> list[IdentityPublic]:
    async with runtime.db.reads() as session:
        await _get_visible(session, principal, contact_id)
        rows = (
            await session.execute(
                select(ContactIdentity).where(ContactIdentity.contact_id == contact_id).order_by(ContactIdentity.id)
            )
        ).scalars()
        return [IdentityPublic.model_validate(i) for i in rows]


@router.get("/{contact_id}/notes", response_model=list[NotePublic])
async def list_notes(contact_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep) -> list[NotePublic]:
    """Operators' notes on the contact, newest first (at most 500); 404 unless I may see the contact."""
    async with runtime.db.reads() as session:
        await _get_visible(session, principal, contact_id)
        return await notes.list_notes(session, contact_id)


@router.post("/{contact_id}/notes", response_model=NotePublic, status_code=201)
async def add_note(
    contact_id: BoundedInt, body: NoteCreate, principal: CurrentPrincipal, runtime: RuntimeDep
) -> NotePublic:
    """A private note (1 to 5000 characters, not blank), signed by me."""
    async with runtime.db.transaction() as session:
        await _get_visible(session, principal, contact_id)
        return await notes.add_note(session, contact_id, body.text, principal=principal)


@router.delete("/{contact_id}/notes/{note_id}", status_code=204)
async def delete_note(
    contact_id: BoundedInt, note_id: BoundedInt, principal: CurrentPrincipal, runtime: RuntimeDep
) -> Response:
    """The note's author or an admin (403 otherwise); 404 for a contact I may not see or a note not its own."""
    async with runtime.db.transaction() as session:
        await _get_visible(session, principal, contact_id)
        await notes.delete_note(session, contact_id, note_id, principal=principal)
    return Response(status_code=204)


@router.post("/{contact_id}/merge", response_model=ContactPublic)
async def merge(
    contact_id: BoundedInt, body: MergeRequest, principal: SupervisorPrincipal, runtime: RuntimeDep
) -> ContactPublic:
    """Fold another contact (its identities and conversations) into this one. Never automatic."""
    async with runtime.db.transaction() as session:
        contact = await actions.merge_contacts(
            session, keep_id=contact_id, merge_id=body.merge_contact_id, actor_id=principal.operator_id
        )
        return ContactPublic.model_validate(contact)
