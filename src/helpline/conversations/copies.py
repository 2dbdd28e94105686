"""A mail answering a copy we e-mailed of another channel's message (a website-chat reply sent to the visitor who
left the page) joins that chat's conversation instead of opening a new one.

The rule (docs/architecture.md, "Replies to e-mailed chat replies"): a message arriving on channel C joins
conversation X of another channel when
1. it refers to a copy of one of X's messages that was sent through C — the copy's Message-ID in its In-Reply-To
   or References (RFC 5322 §3.6.4), or X's id in its conversation token (`[#id]` in the subject, `+c<id>` in the
   address);
2. its sender is the very address that copy was sent to (compared case-insensitively): a thread id alone — in a
   forwarded mail, a leaked subject — proves nothing, so anyone else writing opens a conversation of their own;
3. X is not resolved (as for a mail thread: a reply to a closed case starts a new one).
A thread on C itself always wins. The copy's sender records it in the copied message's content:
`email_copy = {"state": "sent", "channel_id": C, "to": address, "provider_message_id": Message-ID}`
(channels/widget/email_copy.py). The sender address is as trustworthy as e-mail's From is: the same trust a mail
thread on C already places in it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.channels.base import InboundMessage
from helpline.channels.models import Channel
from helpline.contacts.models import Contact
from helpline.conversations.models import AuthorKind, Conversation, Direction, Message, Status

# The newest operator messages looked at per candidate set; copies go out only for recent unread replies.
SCAN_LIMIT = 500
MAX_REFS = 50


def _sent_copy(content: Any, channel_id: int, sender: str) -> dict[str, Any] | None:
    """The message's e-mail copy when it went through `channel_id` to `sender`, else None."""
    copy = (content or {}).get("email_copy") if isinstance(content, dict) else None
    matches = (
        isinstance(copy, dict)
        and copy.get("state") == "sent"
        and copy.get("channel_id") == channel_id
        and str(copy.get("to") or "").strip().lower() == sender
    )
    return copy if matches else None


async def copied_conversation(session: AsyncSession, channel: Channel, inbound: InboundMessage) -> Conversation | None:
    """The other channel's conversation `inbound` answers (locked FOR UPDATE), or None to take the ordinary path.

    At most three queries, bounded by the sender's own conversations: a same-channel thread check, the candidate
    messages (by the named conversation and the contacts with the sender's address), the lock."""
    refs = [str(ref) for ref in inbound.thread_refs[:MAX_REFS]]
    token = inbound.conversation_ref
    sender = (inbound.contact.email or inbound.contact.provider_id or "").strip().lower()
    if (not refs and token is None) or inbound.echo or "@" not in sender:
        return None
    if refs:
        same_channel = await session.execute(
            select(Message.id).where(Message.channel_id == channel.id, Message.provider_message_id.in_(refs)).limit(1)
        )
        if same_channel.first() is not None:
            return None
    addresses = {sender, (inbound.contact.email or "").strip()} - {""}
    by_address = select(Conversation.id).where(
        Conversation.contact_id.in_(select(Contact.id).where(Contact.email.in_(addresses)))
    )
    candidates: list[ColumnElement[bool]] = [Conversation.id.in_(by_address)]
    if token is not None:
        candidates.append(Conversation.id == token)
    rows = (
        await session.execute(
            select(Message.conversation_id, Message.content)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                or_(*candidates),
                Conversation.channel_id != channel.id,
                Message.direction == Direction.outbound.value,
                Message.author_kind == AuthorKind.operator.value,
            )
            .order_by(Message.id.desc())
            .limit(SCAN_LIMIT)
        )
    ).all()
    wanted = set(refs)
    for conversation_id, content in rows:
        copy = _sent_copy(content, channel.id, sender)
        if copy is None:
            continue
        if str(copy.get("provider_message_id") or "") in wanted or conversation_id == token:
            conversation = (
                await session.execute(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
            ).scalar_one()
            return conversation if conversation.status != Status.resolved.value else None
    return None
