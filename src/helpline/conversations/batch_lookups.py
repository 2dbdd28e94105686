"""A batch's lookups in two queries: the contacts behind its identities and their open conversations.

`receive_inbound` looks up, per message, the contact of the sender's identity and the contact's current
conversation on the channel (locked, so the bot pause and the window are decided under the lock). For a
batch of messages both are read here once, set-based, and kept in the session (`CONTACTS_BY_IDENTITY`,
`OPEN_CONVERSATIONS`), so the messages need no query of their own: two statements per batch instead of two
per message. The conversations are locked in id order (FOR UPDATE; two workers never lock in opposite
orders). A contact or conversation another worker creates meanwhile still meets the unique constraints,
and the batch then falls back to one transaction per event (`raw_inbound.ingest_raw_batch`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.channels.base import InboundMessage
from helpline.channels.models import Channel
from helpline.channels.registry import adapter_class
from helpline.contacts.actions import CONTACTS_BY_IDENTITY
from helpline.contacts.models import Contact, ContactIdentity
from helpline.conversations.actions import OPEN_CONVERSATIONS
from helpline.conversations.models import Conversation, Status

# Bound parameters per IN list: far below SQLite's 32,766 and PostgreSQL's 65,535.
CHUNK = 2000


async def prefetch(session: AsyncSession, messages: Iterable[tuple[Channel, InboundMessage]]) -> None:
    """Read the contacts and open conversations `messages` will need into the session's lookups."""
    wanted: dict[tuple[str, str], set[int]] = {}
    for channel, message in messages:
        kind = adapter_class(channel.kind).identity_kind(channel.id)
        wanted.setdefault((kind, message.contact.provider_id), set()).add(channel.id)
    if not wanted:
        return
    contacts: dict[tuple[str, str], Contact | None] = dict.fromkeys(wanted)
    keys = list(wanted)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        rows = await session.execute(
            select(ContactIdentity.kind, ContactIdentity.provider_id, Contact)
            .join(Contact, ContactIdentity.contact_id == Contact.id)
            .where(tuple_(ContactIdentity.kind, ContactIdentity.provider_id).in_(chunk))
        )
        for kind, provider_id, contact in rows:
            contacts[(kind, provider_id)] = contact
    session.info[CONTACTS_BY_IDENTITY] = contacts

    pairs = sorted(
        {(channel_id, contact.id) for key, contact in contacts.items() if contact for channel_id in wanted[key]}
    )
    conversations: dict[tuple[int, int], Conversation | None] = dict.fromkeys(pairs)
    for start in range(0, len(pairs), CHUNK):
        pair_chunk = pairs[start : start + CHUNK]
        found = await session.execute(
            select(Conversation)
            .where(
                tuple_(Conversation.channel_id, Conversation.contact_id).in_(pair_chunk),
                Conversation.status != Status.resolved.value,
            )
            .order_by(Conversation.id)
            .with_for_update()
        )
        for conversation in found.scalars():
            # In id order: the newest open conversation of a pair wins, as in `_open_conversation`.
            conversations[(conversation.channel_id, conversation.contact_id)] = conversation
    session.info[OPEN_CONVERSATIONS] = conversations


def forget(session: AsyncSession) -> None:
    """Drop the lookups (after a change they do not follow, e.g. a number change moving an identity)."""
    session.info.pop(CONTACTS_BY_IDENTITY, None)
    session.info.pop(OPEN_CONVERSATIONS, None)
