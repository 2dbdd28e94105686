"""Writes for contacts: find-or-create from an identity, update, and explicit merges."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.audit.actions import record
from helpline.channels.base import InboundContact
from helpline.contacts.models import Contact, ContactIdentity, ContactNote
from helpline.contacts.schemas import ContactUpdate
from helpline.conversations.models import Conversation
from helpline.platform.errors import Invalid, NotFound

# session.info key: {(identity kind, provider id): Contact, or None when known to have none}, filled for a
# whole batch in one query (`conversations/batch_lookups.py`) so each message needs no lookup of its own.
CONTACTS_BY_IDENTITY = "contacts_by_identity"


async def contact_for_identity(session: AsyncSession, kind: str, incoming: InboundContact) -> tuple[Contact, bool]:
    """The contact behind (kind, provider id), created on first sight. Never merges by name, e-mail or
    phone: a wrong automatic merge shows one customer's history to another."""
    known: dict[tuple[str, str], Contact | None] | None = session.info.get(CONTACTS_BY_IDENTITY)
    key = (kind, incoming.provider_id)
    if known is not None and key in known:
        row = known[key]
    else:
        row = (
            await session.execute(
                select(Contact)
                .join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
                .where(ContactIdentity.kind == kind, ContactIdentity.provider_id == incoming.provider_id)
            )
        ).scalar_one_or_none()
    if row is not None:
        # Fill in what we did not know; never overwrite what an operator may have corrected.
        for field in ("name", "email", "phone", "avatar_url"):
            if getattr(row, field) is None and getattr(incoming, field):
                setattr(row, field, getattr(incoming, field))
        return row, False
    # Never the provider id as a name: a page-scoped id or a website visitor's token means nothing to an operator,
    # who sees "Website visitor #12" instead (web/static/js/names.js) until the customer or an operator names them.
    contact = Contact(
        name=incoming.name or incoming.phone or incoming.email or None,
        email=incoming.email,
        phone=incoming.phone,
        avatar_url=incoming.avatar_url,
        attributes={},
    )
    session.add(contact)
    await session.flush()
    session.add(ContactIdentity(contact_id=contact.id, kind=kind, provider_id=incoming.provider_id))
    if known is not None:
        known[key] = contact
    return contact, True


async def update_contact(session: AsyncSession, contact_id: int, data: ContactUpdate, *, actor_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("no such contact")
    changes = data.model_dump(exclude_unset=True)
    if "attributes" in changes and changes["attributes"] is None:
        changes["attributes"] = {}  # `null` clears the attributes; the column itself is never NULL
    for field, value in changes.items():
        setattr(contact, field, value)
    record(
        session,
        operator_id=actor_id,
        action="contact.updated",
        target_type="contact",
        target_id=contact.id,
        details={"fields": sorted(changes)},
    )
    return contact


async def merge_contacts(session: AsyncSession, *, keep_id: int, merge_id: int, actor_id: int) -> Contact:
    """Move identities, conversations and notes of `merge_id` onto `keep_id`; the merged contact stays as a
    tombstone."""
    if keep_id == merge_id:
        raise Invalid("a contact cannot be merged into itself")
    keep = await session.get(Contact, keep_id)
    merge = await session.get(Contact, merge_id)
    if keep is None or merge is None or keep.merged_into_id or merge.merged_into_id:
        raise NotFound("no such contact (or it was already merged)")
    moved_identities = await session.execute(
        update(ContactIdentity).where(ContactIdentity.contact_id == merge.id).values(contact_id=keep.id)
    )
    moved_conversations = await session.execute(
        update(Conversation).where(Conversation.contact_id == merge.id).values(contact_id=keep.id)
    )
    # Operators' notes follow the customer they were written about.
    await session.execute(update(ContactNote).where(ContactNote.contact_id == merge.id).values(contact_id=keep.id))
    for field in ("email", "phone", "avatar_url"):
        if getattr(keep, field) is None and getattr(merge, field):
            setattr(keep, field, getattr(merge, field))
    keep.attributes = {**(merge.attributes or {}), **(keep.attributes or {})}
    merge.merged_into_id = keep.id
    record(
        session,
        operator_id=actor_id,
        action="contact.merged",
        target_type="contact",
        target_id=keep.id,
        details={
            "merged_contact_id": merge.id,
            "identities_moved": moved_identities.rowcount,  # type: ignore[attr-defined]
            "conversations_moved": moved_conversations.rowcount,  # type: ignore[attr-defined]
        },
    )
    return keep
