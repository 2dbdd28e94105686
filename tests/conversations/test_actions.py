"""Inbox actions on both databases: inbound dedupe and timestamps, delivery states, bot pause, snooze, merges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helpline.audit.models import AuditEntry
from helpline.channels.base import DeliveryStatusChanged, InboundContact, InboundMessage
from helpline.channels.models import Channel
from helpline.contacts.actions import merge_contacts
from helpline.contacts.models import Contact, ContactIdentity
from helpline.conversations import actions, handling
from helpline.conversations.models import Conversation, Message, Status
from helpline.platform.clock import utcnow
from helpline.platform.errors import Invalid, NotFound
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.conftest import World
from tests.conversations.conftest import Line, count, principal_of


def inbound(provider_id: str, *, contact: str = "c-1", text: str = "hi", at: datetime | None = None) -> InboundMessage:
    return InboundMessage(
        contact=InboundContact(provider_id=contact, name=contact.upper()),
        provider_message_id=provider_id,
        text=text,
        timestamp=at,
    )


async def receive(runtime: Runtime, channel_id: int, message: InboundMessage) -> actions.InboundOutcome:
    async with runtime.db.transaction() as session:
        channel = await session.get(Channel, channel_id)
        assert channel is not None
        return await actions.receive_inbound(session, channel=channel, inbound=message, blobs=runtime.blobs)


async def conversation(runtime: Runtime, conversation_id: int) -> Conversation:
    async with runtime.db.sessions() as session:
        row = await session.get(Conversation, conversation_id)
        assert row is not None
        return row


async def reply(runtime: Runtime, conversation_id: int, author: actions.Author, text: str = "reply") -> Message:
    async with runtime.db.transaction() as session:
        return await actions.send_reply(
            session, conversation_id=conversation_id, author=author, text=text, blobs=runtime.blobs
        )


# ---------------------------------------------------------------- receive_inbound


async def test_receive_inbound_drops_a_repeated_provider_id(runtime: Runtime, world: World) -> None:
    first = await receive(runtime, world.channel_id, inbound("wamid.1", text="first"))
    again = await receive(runtime, world.channel_id, inbound("wamid.1", text="changed on retry"))

    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.message.id == first.message.id
    assert again.conversation.id == first.conversation.id
    assert await count(runtime, Message) == 1
    # The side effects were written once: one message.created frame (people handle this channel, so no
    # routing row is written at all: only a bot-handled conversation needs one).
    async with runtime.db.reads() as session:
        frames = (
            await session.execute(select(OutboxRow.payload).where(OutboxRow.topic == "realtime.publish"))
        ).scalars()
        assert [f["type"] for f in frames].count("message.created") == 1
    assert await count(runtime, OutboxRow, OutboxRow.topic == actions.ROUTING_TOPIC) == 0
    stored = await conversation(runtime, first.conversation.id)
    assert stored.unread_count == 1
    async with runtime.db.sessions() as session:
        assert (await session.get(Message, first.message.id)).text == "first"  # type: ignore[union-attr]


async def test_the_same_provider_id_on_another_channel_is_a_different_message(
    runtime: Runtime, world: World, bot_line: Line
) -> None:
    first = await receive(runtime, world.channel_id, inbound("same-id"))
    second = await receive(runtime, bot_line.id, inbound("same-id"))
    assert not second.duplicate
    assert second.message.id != first.message.id


async def test_provider_timestamp_sets_last_inbound_at_and_never_moves_back(runtime: Runtime, world: World) -> None:
    sent_at = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    first = await receive(runtime, world.channel_id, inbound("m1", at=sent_at))
    stored = await conversation(runtime, first.conversation.id)
    assert stored.last_inbound_at == sent_at
    assert stored.last_activity_at > sent_at + timedelta(hours=1)  # the inbox sorts by when we saw it

    # A late delivery of an older message does not move the window's start back.
    older = await receive(runtime, world.channel_id, inbound("m0", at=sent_at - timedelta(hours=3)))
    assert not older.duplicate
    assert (await conversation(runtime, first.conversation.id)).last_inbound_at == sent_at
    # Nor does a retry of the first message carrying another timestamp.
    retry = await receive(runtime, world.channel_id, inbound("m1", at=sent_at - timedelta(hours=5)))
    assert retry.duplicate
    assert (await conversation(runtime, first.conversation.id)).last_inbound_at == sent_at

    newer_at = sent_at + timedelta(minutes=30)
    await receive(runtime, world.channel_id, inbound("m2", at=newer_at))
    assert (await conversation(runtime, first.conversation.id)).last_inbound_at == newer_at


async def test_a_provider_timestamp_in_the_future_is_capped_at_now(runtime: Runtime, world: World) -> None:
    before = utcnow()
    outcome = await receive(runtime, world.channel_id, inbound("m1", at=utcnow() + timedelta(days=2)))
    stored = await conversation(runtime, outcome.conversation.id)
    assert stored.last_inbound_at is not None
    assert before <= stored.last_inbound_at <= utcnow()


async def test_without_a_provider_timestamp_the_receive_time_counts(runtime: Runtime, world: World) -> None:
    before = utcnow()
    outcome = await receive(runtime, world.channel_id, inbound("m1"))
    stored = await conversation(runtime, outcome.conversation.id)
    assert stored.last_inbound_at is not None
    assert before <= stored.last_inbound_at <= utcnow()


# ---------------------------------------------------------------- delivery states


async def sent_message(runtime: Runtime, world: World, provider_id: str) -> int:
    outcome = await receive(runtime, world.channel_id, inbound(f"in-{provider_id}", contact=provider_id))
    message = await reply(runtime, outcome.conversation.id, actions.Author.operator(world.agent.id))
    async with runtime.db.transaction() as session:
        row = await session.get(Message, message.id)
        assert row is not None
        row.delivery_state = "sent"
        row.provider_message_id = provider_id
    return message.id


async def apply(runtime: Runtime, channel_id: int, status: DeliveryStatusChanged) -> Message | None:
    async with runtime.db.transaction() as session:
        return await actions.apply_delivery_status(session, channel_id=channel_id, status=status)


async def state_of(runtime: Runtime, message_id: int) -> tuple[str, str | None, str | None]:
    async with runtime.db.sessions() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message.delivery_state, message.error_code, message.error_reason


async def test_delivery_status_moves_forward_and_never_backwards(runtime: Runtime, world: World) -> None:
    message_id = await sent_message(runtime, world, "out-1")
    steps = [
        ("delivered", "delivered"),
        ("sent", "delivered"),  # a late "sent" webhook
        ("read", "read"),
        ("delivered", "read"),
        ("sent", "read"),
    ]
    for incoming, expected in steps:
        await apply(runtime, world.channel_id, DeliveryStatusChanged(provider_message_id="out-1", state=incoming))
        assert (await state_of(runtime, message_id))[0] == expected, incoming


async def test_read_can_arrive_before_delivered(runtime: Runtime, world: World) -> None:
    message_id = await sent_message(runtime, world, "out-1")
    await apply(runtime, world.channel_id, DeliveryStatusChanged(provider_message_id="out-1", state="read"))
    await apply(runtime, world.channel_id, DeliveryStatusChanged(provider_message_id="out-1", state="delivered"))
    assert (await state_of(runtime, message_id))[0] == "read"


async def test_failed_keeps_the_error_code_and_reason(runtime: Runtime, world: World) -> None:
    message_id = await sent_message(runtime, world, "out-1")
    failed = DeliveryStatusChanged(
        provider_message_id="out-1", state="failed", error_code="131047", error_reason="Re-engagement message"
    )
    await apply(runtime, world.channel_id, failed)
    assert await state_of(runtime, message_id) == ("failed", "131047", "Re-engagement message")

    await apply(runtime, world.channel_id, DeliveryStatusChanged(provider_message_id="out-1", state="delivered"))
    second = DeliveryStatusChanged(provider_message_id="out-1", state="failed", error_code="1", error_reason="other")
    await apply(runtime, world.channel_id, second)
    assert await state_of(runtime, message_id) == ("failed", "131047", "Re-engagement message")


async def test_a_late_failed_does_not_contradict_a_read_message(runtime: Runtime, world: World) -> None:
    message_id = await sent_message(runtime, world, "out-1")
    await apply(runtime, world.channel_id, DeliveryStatusChanged(provider_message_id="out-1", state="read"))
    late = DeliveryStatusChanged(provider_message_id="out-1", state="failed", error_code="131026", error_reason="x")
    await apply(runtime, world.channel_id, late)
    assert await state_of(runtime, message_id) == ("read", None, None)


async def test_status_for_an_unknown_or_foreign_message_changes_nothing(
    runtime: Runtime, world: World, bot_line: Line
) -> None:
    message_id = await sent_message(runtime, world, "out-1")
    unknown = DeliveryStatusChanged(provider_message_id="nope", state="read")
    assert await apply(runtime, world.channel_id, unknown) is None
    other_channel = DeliveryStatusChanged(provider_message_id="out-1", state="read")
    assert await apply(runtime, bot_line.id, other_channel) is None
    assert (await state_of(runtime, message_id))[0] == "sent"


# ---------------------------------------------------------------- bot pause and takeover


async def test_bot_reply_is_refused_after_a_takeover(runtime: Runtime, world: World, bot_line: Line) -> None:
    outcome = await receive(runtime, bot_line.id, inbound("m1"))
    conversation_id = outcome.conversation.id
    assert outcome.conversation.handler == "bot"
    first = await reply(runtime, conversation_id, actions.BOT, "Olá! Sou o assistente.")
    assert (first.author_kind, first.delivery_state) == ("bot", "queued")

    async with runtime.db.transaction() as session:
        await handling.takeover(session, conversation_id, principal=principal_of(world.agent, bot_line.id))
    messages_before = await count(runtime, Message)
    outbox_before = await count(runtime, OutboxRow, OutboxRow.topic == actions.DELIVERY_TOPIC)
    with pytest.raises(actions.BotPaused) as refused:
        await reply(runtime, conversation_id, actions.BOT, "I keep talking")
    assert refused.value.status_code == 409
    assert refused.value.code == "bot_paused"
    assert await count(runtime, Message) == messages_before
    assert await count(runtime, OutboxRow, OutboxRow.topic == actions.DELIVERY_TOPIC) == outbox_before

    # After the hand-back the bot may speak again.
    async with runtime.db.transaction() as session:
        await handling.handback(session, conversation_id, principal=principal_of(world.agent, bot_line.id))
    assert (await reply(runtime, conversation_id, actions.BOT, "back")).delivery_state == "queued"


async def test_an_operator_reply_takes_over_a_bot_conversation(runtime: Runtime, world: World, bot_line: Line) -> None:
    outcome = await receive(runtime, bot_line.id, inbound("m1"))
    conversation_id = outcome.conversation.id
    assert (outcome.conversation.handler, outcome.conversation.status) == ("bot", "pending")

    message = await reply(runtime, conversation_id, actions.Author.operator(world.agent.id), "Sou a Ana, humana.")
    assert (message.author_kind, message.operator_id) == ("operator", world.agent.id)
    stored = await conversation(runtime, conversation_id)
    assert (stored.handler, stored.status, stored.assignee_id) == ("human", "open", world.agent.id)
    async with runtime.db.sessions() as session:
        audit = (
            await session.execute(
                select(AuditEntry).where(
                    AuditEntry.target_type == "conversation", AuditEntry.target_id == conversation_id
                )
            )
        ).scalar_one()
    assert (audit.action, audit.operator_id, audit.details) == (
        "conversation.takeover",
        world.agent.id,
        {"reason": "operator replied"},
    )
    with pytest.raises(actions.BotPaused):
        await reply(runtime, conversation_id, actions.BOT)


async def test_an_operator_reply_keeps_an_existing_assignee(runtime: Runtime, world: World, bot_line: Line) -> None:
    outcome = await receive(runtime, bot_line.id, inbound("m1"))
    async with runtime.db.transaction() as session:
        await handling.assign(
            session, outcome.conversation.id, world.supervisor.id, principal=principal_of(world.admin)
        )
    await reply(runtime, outcome.conversation.id, actions.Author.operator(world.agent.id))
    assert (await conversation(runtime, outcome.conversation.id)).assignee_id == world.supervisor.id


# ---------------------------------------------------------------- snooze


async def snooze(runtime: Runtime, world: World, conversation_id: int, until: datetime) -> None:
    async with runtime.db.transaction() as session:
        await handling.set_status(
            session, conversation_id, Status.snoozed, principal=principal_of(world.admin), snoozed_until=until
        )


async def test_wake_snoozed_reopens_only_the_due_conversations(runtime: Runtime, world: World, bot_line: Line) -> None:
    human = (await receive(runtime, world.channel_id, inbound("m1", contact="a"))).conversation.id
    later = (await receive(runtime, world.channel_id, inbound("m2", contact="b"))).conversation.id
    bot = (await receive(runtime, bot_line.id, inbound("m3", contact="c"))).conversation.id
    now = utcnow()
    await snooze(runtime, world, human, now + timedelta(hours=1))
    await snooze(runtime, world, later, now + timedelta(hours=5))
    await snooze(runtime, world, bot, now + timedelta(hours=1))

    async with runtime.db.transaction() as session:
        assert await handling.wake_snoozed(session, now + timedelta(minutes=30)) == 0
    async with runtime.db.transaction() as session:
        assert await handling.wake_snoozed(session, now + timedelta(hours=2)) == 2

    woke = await conversation(runtime, human)
    assert (woke.status, woke.snoozed_until) == ("open", None)
    assert woke.last_activity_at == now + timedelta(hours=2)
    assert (await conversation(runtime, bot)).status == "pending"
    still = await conversation(runtime, later)
    assert (still.status, still.snoozed_until) == ("snoozed", now + timedelta(hours=5))
    async with runtime.db.transaction() as session:
        assert await handling.wake_snoozed(session, now + timedelta(hours=2)) == 0


async def test_snooze_refuses_a_past_time(runtime: Runtime, world: World) -> None:
    conversation_id = (await receive(runtime, world.channel_id, inbound("m1"))).conversation.id
    with pytest.raises(Invalid):
        await snooze(runtime, world, conversation_id, datetime(2020, 1, 1, tzinfo=UTC))
    assert (await conversation(runtime, conversation_id)).status == "open"


# ---------------------------------------------------------------- merges


async def test_merge_contacts_moves_identities_and_conversations_and_is_audited(
    runtime: Runtime, world: World, bot_line: Line
) -> None:
    keep = await receive(runtime, world.channel_id, inbound("m1", contact="ana-api"))
    merge = await receive(runtime, bot_line.id, inbound("m2", contact="ana-bot"))
    keep_id, merge_id = keep.conversation.contact_id, merge.conversation.contact_id
    assert keep_id != merge_id

    async with runtime.db.transaction() as session:
        kept = await merge_contacts(session, keep_id=keep_id, merge_id=merge_id, actor_id=world.supervisor.id)
        assert kept.id == keep_id

    async with runtime.db.sessions() as session:
        identities = (await session.execute(select(ContactIdentity.provider_id, ContactIdentity.contact_id))).all()
        owners = (await session.execute(select(Conversation.id, Conversation.contact_id))).all()
        tombstone = await session.get(Contact, merge_id)
        audit = (await session.execute(select(AuditEntry).where(AuditEntry.action == "contact.merged"))).scalar_one()
    assert sorted(identities) == [("ana-api", keep_id), ("ana-bot", keep_id)]
    assert sorted(owners) == sorted([(keep.conversation.id, keep_id), (merge.conversation.id, keep_id)])
    assert tombstone is not None
    assert tombstone.merged_into_id == keep_id
    assert (audit.operator_id, audit.target_id) == (world.supervisor.id, keep_id)
    assert audit.details == {"merged_contact_id": merge_id, "identities_moved": 1, "conversations_moved": 1}

    # The merged identity now leads to the kept contact.
    later = await receive(runtime, bot_line.id, inbound("m3", contact="ana-bot"))
    assert later.conversation.contact_id == keep_id
    assert later.conversation.id == merge.conversation.id


async def test_merge_refuses_itself_and_already_merged_contacts(runtime: Runtime, world: World) -> None:
    a = (await receive(runtime, world.channel_id, inbound("m1", contact="a"))).conversation.contact_id
    b = (await receive(runtime, world.channel_id, inbound("m2", contact="b"))).conversation.contact_id
    c = (await receive(runtime, world.channel_id, inbound("m3", contact="c"))).conversation.contact_id

    with pytest.raises(Invalid):
        async with runtime.db.transaction() as session:
            await merge_contacts(session, keep_id=a, merge_id=a, actor_id=world.admin.id)
    assert await count(runtime, AuditEntry, AuditEntry.action == "contact.merged") == 0

    async with runtime.db.transaction() as session:
        await merge_contacts(session, keep_id=a, merge_id=b, actor_id=world.admin.id)
    for keep_id, merge_id in ((c, b), (b, c), (a, 999_999)):
        with pytest.raises(NotFound):
            async with runtime.db.transaction() as session:
                await merge_contacts(session, keep_id=keep_id, merge_id=merge_id, actor_id=world.admin.id)
    async with runtime.db.sessions() as session:
        assert (await session.get(Contact, c)).merged_into_id is None  # type: ignore[union-attr]
    assert await count(runtime, AuditEntry, AuditEntry.action == "contact.merged") == 1
