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
from tests.channels.email.smtp_server import SmtpServer, running_smtp
from tests.channels.widget.support import Visitor, make_widget, say, start
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
