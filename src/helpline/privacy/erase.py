"""Staff erasure (GDPR Art. 17) and retention purges: delete conversations and contacts with every copy of them.

One transaction deletes the rows (conversations cascade to messages, attachments, bot interactions with their
hand-off summaries, legal holds; contacts to identities and notes), deletes outbox rows and outgoing-webhook
deliveries whose payloads mention the person, blanks the details of audit entries about them, and queues a
`privacy.forget` frame that empties every process's realtime replay buffer of them. Files no attachment uses any
more are removed from the blob store after the commit. The audit entry of the erasure itself names no one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.attachments.models import Attachment
from helpline.audit.actions import NO_ORIGIN, Origin, record
from helpline.audit.models import AuditEntry
from helpline.contacts.models import Contact
from helpline.conversations.models import Conversation
from helpline.platform.errors import Conflict, NotFound
from helpline.platform.outbox import OutboxRow, enqueue
from helpline.privacy.footprint import Footprint, footprint
from helpline.privacy.models import LegalHold
from helpline.realtime.forget import forget_frame
from helpline.realtime.frames import TOPIC as REALTIME_TOPIC
from helpline.webhooks.models import WebhookDelivery

ERASED_DETAILS = {"erased": True}


@dataclass
class Purged:
    """What an erasure or a retention run removed (counts), and the blobs to delete after commit."""

    contacts: int = 0
    conversations: int = 0
    messages: int = 0
    attachments: int = 0
    outbox_rows: int = 0
    webhook_deliveries: int = 0
    audit_entries_blanked: int = 0
    orphaned_blobs: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


def subject_reference(secret_key: str, contact_id: int) -> str:
    """A keyed digest standing for the person in the audit log: repeatable (two erasures of one contact match)
    but says nothing about who it was."""
    return hmac.new(secret_key.encode(), f"contact:{contact_id}".encode(), hashlib.sha256).hexdigest()[:24]


async def held(session: AsyncSession, *, contact_ids: set[int], conversation_ids: set[int]) -> bool:
    conditions = []
    if contact_ids:
        conditions.append(LegalHold.contact_id.in_(sorted(contact_ids)))
    if conversation_ids:
        conditions.append(LegalHold.conversation_id.in_(sorted(conversation_ids)))
    if not conditions:
        return False
    return bool(await session.scalar(select(func.count()).select_from(LegalHold).where(or_(*conditions))))


async def _json_copies(session: AsyncSession, print_: Footprint, since: datetime | None, purged: Purged) -> None:
    """Outbox rows and webhook deliveries are deleted, audit details blanked, wherever they mention the person."""
    outbox = select(OutboxRow.id, OutboxRow.payload)
    deliveries = select(WebhookDelivery.id, WebhookDelivery.payload)
    audit = select(AuditEntry.id, AuditEntry.target_type, AuditEntry.target_id, AuditEntry.details)
    if since is not None:
        # Nothing written before the person's first row can mention them.
        outbox = outbox.where(OutboxRow.created_at >= since)
        deliveries = deliveries.where(WebhookDelivery.created_at >= since)
        audit = audit.where(AuditEntry.created_at >= since)
    doomed = [row_id for row_id, payload in await session.execute(outbox) if print_.mentions(payload)]
    if doomed:
        await session.execute(delete(OutboxRow).where(OutboxRow.id.in_(doomed)))
    purged.outbox_rows += len(doomed)
    doomed = [row_id for row_id, payload in await session.execute(deliveries) if print_.mentions(payload)]
    if doomed:
        await session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(doomed)))
    purged.webhook_deliveries += len(doomed)
    targets = {"contact": print_.contact_ids, "conversation": print_.conversation_ids, "message": print_.message_ids}
    blank = [
        entry_id
        for entry_id, target_type, target_id, details in await session.execute(audit)
        if target_id in targets.get(target_type, set()) or print_.mentions(details)
    ]
    if blank:
        await session.execute(update(AuditEntry).where(AuditEntry.id.in_(blank)).values(details=ERASED_DETAILS))
    purged.audit_entries_blanked += len(blank)


async def purge(
    session: AsyncSession, print_: Footprint, *, delete_contacts: bool, since: datetime | None = None
) -> Purged:
    """Delete what `print_` names (the contacts too when `delete_contacts`) and every JSON copy of it."""
    purged = Purged(
        conversations=len(print_.conversation_ids),
        messages=len(print_.message_ids),
        attachments=len(print_.attachment_ids),
    )
    await _json_copies(session, print_, since, purged)
    if print_.conversation_ids:
        await session.execute(delete(Conversation).where(Conversation.id.in_(sorted(print_.conversation_ids))))
    if delete_contacts and print_.contact_ids:
        # Contacts merged into this one point at it; they are the same person and go too.
        await session.execute(
            update(Contact).where(Contact.id.in_(sorted(print_.contact_ids))).values(merged_into_id=None)
        )
        await session.execute(delete(Contact).where(Contact.id.in_(sorted(print_.contact_ids))))
        purged.contacts = len(print_.contact_ids)
    await session.flush()
    for key in sorted(print_.storage_keys):
        # Blobs are shared by content hash: only drop a file no other attachment still uses.
        used = await session.scalar(select(func.count()).select_from(Attachment).where(Attachment.storage_key == key))
        if not used:
            purged.orphaned_blobs.append(key)
    enqueue(session, REALTIME_TOPIC, forget_frame(print_.ids))
    return purged


async def erase_contact(
    session: AsyncSession, contact_id: int, *, actor_id: int | None, secret_key: str, origin: Origin = NO_ORIGIN
) -> Purged:
    """Erase a contact and everything about it (Art. 17). Raises NotFound, or Conflict (409 `legal_hold`) while
    a legal hold covers the contact or one of its conversations."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("no such contact")
    print_ = await footprint(session, contact_id)
    since = await session.scalar(select(func.min(Contact.created_at)).where(Contact.id.in_(sorted(print_.contact_ids))))
    if await held(session, contact_ids=print_.contact_ids, conversation_ids=print_.conversation_ids):
        raise Conflict("a legal hold covers this contact; release it before erasing", code="legal_hold")
    purged = await purge(session, print_, delete_contacts=True, since=since)
    record(
        session,
        operator_id=actor_id,
        action="privacy.erased",
        target_type="contact",
        target_id=None,
        details={"subject": subject_reference(secret_key, contact_id), **purged.counts()},
        origin=origin,
    )
    return purged
