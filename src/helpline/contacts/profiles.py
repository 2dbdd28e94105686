"""Names for contacts a provider introduces by id only (Messenger's PSID, Instagram's IGSID): once, in the
background, the channel asks the provider's user profile API and the contact gets the person's name.

A contact an operator named in between keeps the operator's name; a profile Meta withholds (no permission,
the person's privacy settings) leaves the contact unnamed (the operator app shows a placeholder). Channels
whose adapter has no `fetch_profile` are never asked."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.channels.actions import channel_config
from helpline.channels.base import InboundContact
from helpline.channels.models import Channel
from helpline.channels.registry import adapter_class, build_adapter
from helpline.contacts.models import Contact
from helpline.conversations.events import conversation_changed
from helpline.conversations.models import Conversation, Status
from helpline.platform.outbox import enqueue
from helpline.platform.worker import Handler, Job
from helpline.runtime import Runtime

log = logging.getLogger(__name__)

PROFILE_TOPIC = "contacts.profile"
# Asked a little after the message's own work (the bot's answer, the attachments' download): a name that
# shows up seconds later costs nothing, a customer's reply waiting behind a profile call would.
PROFILE_DELAY_SECONDS = 3.0


def ask_profile(session: AsyncSession, channel: Channel, contact: Contact, incoming: InboundContact) -> None:
    """Queue the profile look-up for a contact just created from `incoming` without a name, when the
    channel's adapter can look one up."""
    if incoming.name or contact.name is not None:
        return
    if not hasattr(adapter_class(channel.kind), "fetch_profile"):
        return
    enqueue(
        session,
        PROFILE_TOPIC,
        {"channel_id": channel.id, "contact_id": contact.id, "provider_id": incoming.provider_id},
        delay_seconds=PROFILE_DELAY_SECONDS,
    )


def make_profile_handler(runtime: Runtime) -> Handler:
    """The worker side: fetch the profile (a retryable provider error retries the job) and name the contact."""

    async def handle(job: Job) -> None:
        payload: dict[str, Any] = job.payload
        async with runtime.db.reads() as session:
            channel = await session.get(Channel, int(payload["channel_id"]))
        if channel is None:
            return
        adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
        fetch = getattr(adapter, "fetch_profile", None)
        if fetch is None:
            return
        provider_id = str(payload["provider_id"])
        profile: InboundContact | None = await fetch(provider_id)
        if profile is None or not profile.name:
            return
        async with runtime.db.transaction() as session:
            contact = await session.get(Contact, int(payload["contact_id"]), with_for_update=True)
            if contact is None or contact.name is not None:  # an operator's naming wins
                return
            contact.name = profile.name
            # Operators' inboxes show the name at once (conversation frames carry the contact).
            rows = await session.execute(
                select(Conversation).where(
                    Conversation.contact_id == contact.id, Conversation.status != Status.resolved.value
                )
            )
            for conversation in rows.scalars():
                await conversation_changed(session, conversation, channel=channel)

    return handle
