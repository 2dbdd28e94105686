"""Operators' private notes on a contact: list, add, delete (by the author or an admin), each audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.auth.models import Operator, Role
from helpline.auth.permissions import Principal
from helpline.contacts.models import ContactNote
from helpline.contacts.schemas import NotePublic
from helpline.conversations.schemas import OperatorBrief
from helpline.platform.errors import Forbidden, Invalid, NotFound

MAX_NOTES_LISTED = 500


def _present(note: ContactNote, author: Operator | None) -> NotePublic:
    return NotePublic(
        id=note.id,
        contact_id=note.contact_id,
        text=note.text,
        author=OperatorBrief(id=author.id, name=author.name) if author else None,
        created_at=note.created_at,
    )


async def list_notes(session: AsyncSession, contact_id: int) -> list[NotePublic]:
    """Newest first, at most MAX_NOTES_LISTED. The caller has checked the contact is visible."""
    rows = await session.execute(
        select(ContactNote, Operator)
        .outerjoin(Operator, Operator.id == ContactNote.operator_id)
        .where(ContactNote.contact_id == contact_id)
        .order_by(ContactNote.id.desc())
        .limit(MAX_NOTES_LISTED)
    )
    return [_present(note, author) for note, author in rows.all()]


async def add_note(session: AsyncSession, contact_id: int, text: str, *, principal: Principal) -> NotePublic:
    """Raises Invalid for a blank note (the schema bounds the length to 5000 characters)."""
    if not text.strip():
        raise Invalid("a note needs some text", code="empty_note")
    note = ContactNote(contact_id=contact_id, operator_id=principal.operator_id, text=text)
    session.add(note)
    await session.flush()
    record(
        session,
        operator_id=principal.operator_id,
        action="contact.note_added",
        target_type="contact",
        target_id=contact_id,
        details={"note_id": note.id},
    )
    return _present(note, await session.get(Operator, principal.operator_id))


async def delete_note(session: AsyncSession, contact_id: int, note_id: int, *, principal: Principal) -> None:
    """Only the note's author or an admin; 404 when the note is not this contact's."""
    note = await session.get(ContactNote, note_id)
    if note is None or note.contact_id != contact_id:
        raise NotFound("no such note")
    if note.operator_id != principal.operator_id and not principal.role.at_least(Role.admin):
        raise Forbidden("only the note's author or an admin may delete it")
    await session.delete(note)
    record(
        session,
        operator_id=principal.operator_id,
        action="contact.note_deleted",
        target_type="contact",
        target_id=contact_id,
        details={"note_id": note_id, "author_id": note.operator_id},
    )
