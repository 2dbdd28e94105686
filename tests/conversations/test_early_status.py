"""A delivery status that arrives before its message has a provider id is kept and applied once it has one."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from helpline.channels.base import DeliveryStatusChanged
from helpline.channels.models import Channel
from helpline.conversations.actions import Author, send_reply
from helpline.conversations.early_status import EARLY_STATUS_TOPIC
from helpline.conversations.ingest import ingest_events
from helpline.conversations.models import Message
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.conftest import World, drain
from tests.support import post_inbound


async def _queued_reply(client: httpx.AsyncClient, runtime: Runtime, world: World) -> int:
    response = await post_inbound(client, world.channel_id, world.channel_secret, text="hi")
    message_id = response.json()["message_ids"][0]
    async with runtime.db.transaction() as session:
        conversation_id = (await session.get(Message, message_id)).conversation_id  # type: ignore[union-attr]
        reply = await send_reply(
            session,
            conversation_id=conversation_id,
            author=Author.operator(world.agent.id),
            text="hello",
            blobs=runtime.blobs,
        )
        return reply.id


async def test_status_before_provider_id_is_applied_later(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    reply_id = await _queued_reply(client, runtime, world)
    async with runtime.db.reads() as session:
        channel = await session.get(Channel, world.channel_id)
    assert channel is not None
    await ingest_events(runtime, channel, [DeliveryStatusChanged(provider_message_id="pm-early", state="delivered")])
    async with runtime.db.reads() as session:
        waiting = (await session.execute(select(func.count()).where(OutboxRow.topic == EARLY_STATUS_TOPIC))).scalar()
    assert waiting == 1

    # The worker records the provider's id for our send (as the delivery handler does after the send call).
    async with runtime.db.transaction() as session:
        reply = await session.get(Message, reply_id)
        assert reply is not None
        reply.provider_message_id, reply.delivery_state = "pm-early", "sent"
    async with runtime.db.transaction() as session:
        await session.execute(OutboxRow.__table__.update().values(available_at=func.now()))
    await drain(runtime)

    async with runtime.db.reads() as session:
        reply = await session.get(Message, reply_id)
        assert reply is not None and reply.delivery_state == "delivered"
        left = (await session.execute(select(func.count()).where(OutboxRow.topic == EARLY_STATUS_TOPIC))).scalar()
    assert left == 0
