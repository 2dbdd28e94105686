"""Erasing a person's data: anonymise contacts and the content of their conversations, drop their files."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.bot.models import ScriptRun
from helpline.contacts.models import Contact, ContactIdentity, ContactNote
from helpline.conversations.models import Conversation, Message

# Identity kinds whose provider id is the app- or page-scoped id Meta's deletion callback names; the adapters
# scope them per channel ("messenger:<channel id>"), so both the bare and the scoped form match.
# WhatsApp identities are phone numbers (wa_id): the callback never names them.
META_IDENTITY_KINDS = ("messenger", "instagram")


@dataclass
class ErasureResult:
    contacts: int = 0
    messages: int = 0
    attachments: int = 0
    # Blobs no attachment refers to any more: delete them from storage after the transaction commits.
    orphaned_blobs: list[str] = field(default_factory=list)


async def contacts_for_provider_user(session: AsyncSession, user_id: str, kinds: tuple[str, ...]) -> list[int]:
    kind_matches = [ContactIdentity.kind == kind for kind in kinds]
    kind_matches += [ContactIdentity.kind.startswith(f"{kind}:", autoescape=True) for kind in kinds]
    rows = await session.execute(
        select(ContactIdentity.contact_id).where(ContactIdentity.provider_id == user_id, or_(*kind_matches))
    )
    return sorted(set(rows.scalars()))


async def erase_contacts(session: AsyncSession, contact_ids: list[int]) -> ErasureResult:
    """Anonymise in place: conversations stay (counts and reports still add up) but say nothing about the person.

    Removes the contact's name, e-mail, phone, avatar and attributes, its identities (so the provider id is gone
    too), operators' notes on it, the text/content of every message in its conversations (both directions:
    replies quote the customer), and those messages' attachments."""
    result = ErasureResult()
    if not contact_ids:
        return result
    conversation_ids = select(Conversation.id).where(Conversation.contact_id.in_(contact_ids))
    message_ids = select(Message.id).where(Message.conversation_id.in_(conversation_ids))
    keys = (
        (
            await session.execute(
                select(Attachment.storage_key).where(
                    Attachment.message_id.in_(message_ids), Attachment.storage_key.is_not(None)
                )
            )
        )
        .scalars()
        .all()
    )
    deleted = await session.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))
    result.attachments = deleted.rowcount or 0  # type: ignore[attr-defined]
    erased = await session.execute(
        update(Message)
        .where(Message.conversation_id.in_(conversation_ids))
        .values(text=None, content={"erased": True}, error_reason=None)
    )
    result.messages = erased.rowcount or 0  # type: ignore[attr-defined]
    await session.execute(
        update(Conversation)
        .where(Conversation.id.in_(conversation_ids))
        .values(last_message_preview=None, bot_state={})
    )
    # What the customer answered the bot's scripts is theirs too.
    await session.execute(update(ScriptRun).where(ScriptRun.conversation_id.in_(conversation_ids)).values(answers={}))
    await session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id.in_(contact_ids)))
    # Operators' notes are about the person: they go too.
    await session.execute(delete(ContactNote).where(ContactNote.contact_id.in_(contact_ids)))
    anonymised = await session.execute(
        update(Contact)
        .where(Contact.id.in_(contact_ids))
        .values(name=None, email=None, phone=None, avatar_url=None, attributes={"erased": True})
    )
    result.contacts = anonymised.rowcount or 0  # type: ignore[attr-defined]
    for key in sorted({k for k in keys if k}):
        # Blobs are shared by content hash: only drop a file no other attachment still uses.
        still_used = await session.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.storage_key == key)
        )
        if not still_used:
            result.orphaned_blobs.append(key)
    return result
