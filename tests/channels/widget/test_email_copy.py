"""An operator's reply the visitor has not read goes to the e-mail they left, through the linked e-mail channel
(a real SMTP server on loopback), once; read replies and visitors without an address get none."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import httpx
import pytest
from sqlalchemy import select

from helpline.channels.widget.email_copy import send_email_copies
from helpline.conversations.models import Conversation, Message
from helpline.runtime import Runtime
from tests.channels.email.conftest import email_settings, make_email_channel
from tests.channels.email.mails import customer_mail
from tests.channels.email.smtp_server import SmtpServer, running_smtp
from tests.channels.email.test_email_flow import receive
from tests.channels.widget.support import Visitor, history, make_widget, say, start
from tests.conftest import World, drain

MAILBOX = "support@helpline.test"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp({MAILBOX: "mailbox-password"})


async def reply(client: httpx.AsyncClient, runtime: Runtime, world: World, visitor: Visitor, text: str) -> int:
    async with runtime.db.reads() as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.channel_id == visitor.channel_id))
        ).scalar_one()
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages", json={"text": text}, headers=world.agent.headers
    )
    assert response.status_code == 201, response.text
    await drain(runtime)
    message_id: int = response.json()["id"]
    return message_id


async def test_unread_reply_is_mailed_once_to_the_visitors_address(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    mailbox = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    widget = await make_widget(runtime, [world.agent.id], email_channel_id=mailbox.id, email_after_minutes=0)
    visitor = await start(client, widget.id, name="Ana", email="ana@example.com")
    await say(client, visitor, "Is my parcel insured?", "q1")
    message_id = await reply(client, runtime, world, visitor, "Yes, up to 500 euros.")

    assert await send_email_copies(runtime) == 1
    assert len(smtp.mailroom.received) == 1
    mail = message_from_bytes(smtp.mailroom.received[0].data, policy=policy.default)
    assert smtp.mailroom.received[0].rcpt_tos == ["ana@example.com"]
    assert mail["From"].addresses[0].addr_spec == MAILBOX
    body = mail.get_body(("plain",))
    assert body is not None and "Yes, up to 500 euros." in body.get_content()
    async with runtime.db.reads() as session:
        stored = await session.get(Message, message_id)
    assert stored is not None
    assert stored.content["email_copy"]["state"] == "sent" and stored.content["email_copy"]["to"] == "ana@example.com"
    # Never twice.
    assert await send_email_copies(runtime) == 0
    assert len(smtp.mailroom.received) == 1


async def test_read_replies_recent_replies_and_visitors_without_email_get_no_mail(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    mailbox = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    anonymous_widget = await make_widget(runtime, [world.agent.id], email_channel_id=mailbox.id, email_after_minutes=0)
    anonymous = await start(client, anonymous_widget.id)
    await say(client, anonymous, "hello", "a1")
    await reply(client, runtime, world, anonymous, "Hi there")

    patient = await make_widget(runtime, [world.agent.id], email_channel_id=mailbox.id, email_after_minutes=30)
    recent = await start(client, patient.id, email="rui@example.com")
    await say(client, recent, "hello", "r1")
    await reply(client, runtime, world, recent, "Hi Rui")

    reader_widget = await make_widget(runtime, [world.agent.id], email_channel_id=mailbox.id, email_after_minutes=0)
    reader = await start(client, reader_widget.id, email="bia@example.com")
    await say(client, reader, "hello", "b1")
    read_id = await reply(client, runtime, world, reader, "Hi Bia")
    async with runtime.db.transaction() as session:
        message = await session.get(Message, read_id)
        assert message is not None
        message.delivery_state = "read"  # what the widget's read receipt does (tested over the socket)

    assert await send_email_copies(runtime) == 0
    assert smtp.mailroom.received == []


async def test_a_mail_answer_to_the_copy_joins_the_chat_but_only_from_the_visitors_own_address(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    """conversations/copies.py: by the copy's Message-ID (In-Reply-To/References) or the chat's [#id] token, from
    the address the copy went to (case aside); anyone else holding the thread's ids opens a conversation of their
    own on the e-mail channel; a resolved chat is not reopened by mail."""
    mailbox = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    widget = await make_widget(runtime, [world.agent.id], email_channel_id=mailbox.id, email_after_minutes=0)
    visitor = await start(client, widget.id, name="Ana", email="Ana@Example.com")
    await say(client, visitor, "Is my parcel insured?", "q1")
    await reply(client, runtime, world, visitor, "Yes, up to 500 euros.")
    assert await send_email_copies(runtime) == 1
    copy = message_from_bytes(smtp.mailroom.received[0].data, policy=policy.default)
    copy_id = str(copy["Message-ID"]).strip("<>")
    async with runtime.db.reads() as session:
        chat = (await session.execute(select(Conversation).where(Conversation.channel_id == widget.id))).scalar_one()
    assert f"[#{chat.id}]" in str(copy["Subject"])

    intruder = customer_mail(
        "intruder@example.com",
        "Please change the delivery address.",
        subject=f"Re: {copy['Subject']}",
        sender="Mallory <mallory@example.com>",
        in_reply_to=copy_id,
        references=[copy_id],
    )
    await receive(runtime, mailbox, intruder)
    answer = customer_mail(
        "answer@example.com",
        "Great, thanks! And for 800 euros?",
        subject=f"Re: {copy['Subject']}",
        sender="Ana <ana@example.com>",
        in_reply_to=copy_id,
        references=[copy_id],
    )
    await receive(runtime, mailbox, answer)
    await receive(runtime, mailbox, answer)  # a re-poll: stored once
    # A client that dropped the headers: the subject's token, from the same address, still threads.
    bare = customer_mail(
        "bare@example.com", "Also: do you ship to Porto?", subject=f"Re: {copy['Subject']}", sender="ana@example.com"
    )
    await receive(runtime, mailbox, bare)

    async with runtime.db.reads() as session:
        in_chat = (
            (await session.execute(select(Message).where(Message.conversation_id == chat.id).order_by(Message.id)))
            .scalars()
            .all()
        )
        elsewhere = (
            (await session.execute(select(Conversation).where(Conversation.channel_id == mailbox.id))).scalars().all()
        )
    assert [(m.direction, m.text) for m in in_chat][-2:] == [
        ("inbound", "Great, thanks! And for 800 euros?"),
        ("inbound", "Also: do you ship to Porto?"),
    ]
    assert in_chat[-1].channel_id == mailbox.id and in_chat[-1].content["email"]["subject"].startswith("Re: ")
    [mallory] = elsewhere
    assert mallory.contact_id != chat.contact_id
    # The visitor sees their mailed answer in the chat's history too.
    assert "Great, thanks! And for 800 euros?" in [m.get("text") for m in await history(client, visitor)]

    # Once the chat is resolved, a later answer opens an e-mail conversation (as a mail thread does).
    resolved = await client.post(f"/api/v1/conversations/{chat.id}/resolve", headers=world.agent.headers)
    assert resolved.status_code == 200, resolved.text
    late = customer_mail("late@example.com", "One more thing", sender="ana@example.com", in_reply_to=copy_id)
    await receive(runtime, mailbox, late)
    async with runtime.db.reads() as session:
        count = len((await session.execute(select(Conversation).where(Conversation.channel_id == mailbox.id))).all())
    assert count == 2
