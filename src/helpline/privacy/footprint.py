"""A person's footprint: every id and identifying string Helpline holds for a contact, to find each copy of it.

Rows that belong to the contact are found by foreign keys (conversations, messages, attachments, bot interactions,
notes, identities). Copies in JSON — outbox payloads, webhook delivery payloads, audit details, realtime frames —
are found by `mentions`: an id under a known key (realtime/forget.py) or one of the person's strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.contacts.models import Contact, ContactIdentity
from helpline.conversations.models import Conversation, Message
from helpline.realtime.forget import references

# Shorter strings (a "hi", a first name like "Ana") would match unrelated rows; ids still catch those copies.
MIN_STRING = 6


@dataclass
class Footprint:
    contact_ids: set[int] = field(default_factory=set)
    conversation_ids: set[int] = field(default_factory=set)
    message_ids: set[int] = field(default_factory=set)
    attachment_ids: set[int] = field(default_factory=set)
    storage_keys: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)

    @property
    def ids(self) -> dict[str, set[int]]:
        return {
            "contact": self.contact_ids,
            "conversation": self.conversation_ids,
            "message": self.message_ids,
            "attachment": self.attachment_ids,
        }

    def mentions(self, value: Any) -> bool:
        """True when a JSON-like value references one of the ids or contains one of the strings."""
        if references(value, self.ids):
            return True
        return bool(self.strings) and _contains(value, self.strings)


def _contains(value: Any, strings: set[str]) -> bool:
    if isinstance(value, str):
        lowered = value.lower()
        return any(s in lowered for s in strings)
    if isinstance(value, dict):
        return any(_contains(k, strings) or _contains(v, strings) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains(v, strings) for v in value)
    return False


def _add(strings: set[str], *values: str | None) -> None:
    for value in values:
        if value and len(value.strip()) >= MIN_STRING:
            strings.add(value.strip().lower())


async def footprint(session: AsyncSession, contact_id: int) -> Footprint:
    """The contact, the contacts merged into it (the same person), and everything hanging off them."""
    found = Footprint()
    frontier = {contact_id}
    while frontier:
        found.contact_ids |= frontier
        merged = await session.execute(select(Contact.id).where(Contact.merged_into_id.in_(sorted(frontier))))
        frontier = set(merged.scalars()) - found.contact_ids
    contacts = (await session.execute(select(Contact).where(Contact.id.in_(sorted(found.contact_ids))))).scalars()
    for contact in contacts:
        _add(found.strings, contact.name, contact.email, contact.phone, contact.avatar_url)
    identities = await session.execute(
        select(ContactIdentity.provider_id).where(ContactIdentity.contact_id.in_(sorted(found.contact_ids)))
    )
    _add(found.strings, *identities.scalars())
    conversations = await session.execute(
        select(Conversation.id).where(Conversation.contact_id.in_(sorted(found.contact_ids)))
    )
    found.conversation_ids = set(conversations.scalars())
    if found.conversation_ids:
        messages = await session.execute(
            select(Message.id, Message.text, Message.direction).where(
                Message.conversation_id.in_(sorted(found.conversation_ids))
            )
        )
        for message_id, text, direction in messages:
            found.message_ids.add(message_id)
            if direction == "inbound":
                _add(found.strings, text)
        attachments = await session.execute(
            select(Attachment.id, Attachment.storage_key).where(Attachment.message_id.in_(sorted(found.message_ids)))
        )
        for attachment_id, key in attachments:
            found.attachment_ids.add(attachment_id)
            if key:
                found.storage_keys.add(key)
    return found
