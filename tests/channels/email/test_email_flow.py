"""End to end through the real SMTP server on loopback: a mail opens a conversation, the operator's reply
leaves over SMTP with the thread's headers, the customer's answer threads back; files both ways; bounces,
auto-replies and SMTP refusals end as the operator must see them."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import httpx
from sqlalchemy import select

from helpline.channels.actions import channel_config
from helpline.channels.base import OutboundMessage
from helpline.channels.email.adapter import EmailAdapter
from helpline.channels.email.compose import build_mail
from helpline.channels.email.settings import EmailSettings
from helpline.channels.models import Channel
from helpline.channels.registry import build_adapter
from helpline.conversations.ingest import ingest_events
from helpline.conversations.models import Conversation, Message
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.channels.email.conftest import email_settings, make_email_channel
from tests.channels.email.mails import bounce_for, customer_mail
from tests.channels.email.smtp_server import SmtpServer
from tests.conftest import World, drain

PDF = b"%PDF-1.4\n%receipt\n"


async def receive(runtime: Runtime, channel: Channel, raw: bytes) -> None:
    adapter = build_adapter(channel_config(channel, runtime.box, runtime.settings), runtime.http)
    assert isinstance(adapter, EmailAdapter)
    await ingest_events(runtime, channel, adapter.events_from_mail(raw))


async def conversations(runtime: Runtime, channel_id: int) -> list[Conversation]:
    async with runtime.db.reads() as session:
        rows = await session.execute(
            select(Conversation).where(Conversation.channel_id == channel_id).order_by(Conversation.id)
        )
        return list(rows.scalars())


async def messages(runtime: Runtime, conversation_id: int) -> list[Message]:
    async with runtime.db.reads() as session:
        rows = await session.execute(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return list(rows.scalars())


async def reply(client: httpx.AsyncClient, world: World, conversation_id: int, text: str, file: bool = False) -> int:
    url = f"/api/v1/conversations/{conversation_id}/messages"
    if file:
        files = {"files": ("recibo.pdf", PDF, "application/pdf")}
        response = await client.post(url, data={"text": text}, files=files, headers=world.agent.headers)
    else:
        response = await client.post(url, json={"text": text}, headers=world.agent.headers)
    assert response.status_code == 201, response.text
    message_id: int = response.json()["id"]
    return message_id


async def test_mail_to_conversation_reply_by_smtp_and_the_answer_threads_back(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    channel = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    await receive(
        runtime,
        channel,
        customer_mail("first@example.com", "Olá, meu pedido não chegou.", files=[("foto.pdf", "application/pdf", PDF)]),
    )
    [conversation] = await conversations(runtime, channel.id)
    [first] = await messages(runtime, conversation.id)
    assert first.text == "Olá, meu pedido não chegou."
    assert first.content["email"]["subject"] == "Pedido 1234 não chegou"
    response = await client.get(f"/api/v1/conversations/{conversation.id}/messages", headers=world.agent.headers)
    assert response.status_code == 200
    [listed] = response.json()["items"] if isinstance(response.json(), dict) else response.json()
    assert [a["filename"] for a in listed["attachments"]] == ["foto.pdf"]

    sent_id = await reply(client, world, conversation.id, "Vamos verificar.\n\nAbraço,\nEquipe", file=True)
    await drain(runtime)
    [out] = smtp.mailroom.received
    assert out.rcpt_tos == ["ana@example.com"] and out.mail_from == "support@helpline.test"
    mail = out.message
    assert mail["In-Reply-To"] == "<first@example.com>"
    assert mail["References"] == "<first@example.com>"
    assert mail["Subject"] == f"Re: Pedido 1234 não chegou [#{conversation.id}]"
    assert mail["From"] == "Acme Support <support@helpline.test>"
    assert mail["Auto-Submitted"] is None
    body = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert (
        body is not None and body.get_content().replace("\r\n", "\n").strip() == "Vamos verificar.\n\nAbraço,\nEquipe"
    )
    assert html is not None and "<p>Abraço,<br>Equipe</p>" in html.get_content().replace("\r\n", "")
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "recibo.pdf" and attachment.get_content() == PDF
    sent = next(m for m in await messages(runtime, conversation.id) if m.id == sent_id)
    assert sent.delivery_state == "sent" and f"<{sent.provider_message_id}>" == mail["Message-ID"]

    # The customer answers (quoting us): same conversation, only the new part shown.
    answer = customer_mail(
        "second@example.com",
        "Obrigada!\n\nEm seg., Acme Support escreveu:\n> Vamos verificar.",
        subject=f"Re: Pedido 1234 não chegou [#{conversation.id}]",
        in_reply_to=sent.provider_message_id,
        references=["first@example.com", str(sent.provider_message_id)],
    )
    await receive(runtime, channel, answer)
    await receive(runtime, channel, answer)  # a re-poll: stored once
    assert [c.id for c in await conversations(runtime, channel.id)] == [conversation.id]
    texts = [(m.direction, m.text) for m in await messages(runtime, conversation.id)]
    assert texts[-1] == ("inbound", "Obrigada!") and len(texts) == 3

    # Our second reply continues the chain.
    await reply(client, world, conversation.id, "De nada!")
    await drain(runtime)
    second = smtp.mailroom.received[1].message
    assert second["In-Reply-To"] == "<second@example.com>"
    assert second["References"] == f"<first@example.com> <{sent.provider_message_id}> <second@example.com>"

    # A fresh mail (no thread headers) from the same person opens a new conversation.
    await receive(runtime, channel, customer_mail("third@example.com", "Outro assunto", subject="Fatura"))
    assert len(await conversations(runtime, channel.id)) == 2


async def test_an_operator_reply_keeps_the_subject_and_headers_it_was_sent_with_in_the_api_and_the_export(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    """The reply's "Re: <subject> [#id]", Message-ID, In-Reply-To and References (RFC 5322 §3.6.4) are stored
    on the message as an inbound mail's are: the timeline shows the subject and the contact export holds it."""
    channel = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    await receive(runtime, channel, customer_mail("first@example.com", "Olá, meu pedido não chegou."))
    [conversation] = await conversations(runtime, channel.id)
    sent_id = await reply(client, world, conversation.id, "Vamos verificar.")
    await drain(runtime)
    [out] = smtp.mailroom.received
    sent = next(m for m in await messages(runtime, conversation.id) if m.id == sent_id)
    email = sent.content["email"]
    assert email["subject"] == out.message["Subject"] == f"Re: Pedido 1234 não chegou [#{conversation.id}]"
    assert f"<{email['message_id']}>" == out.message["Message-ID"] and email["message_id"] == sent.provider_message_id
    assert email["in_reply_to"] == "first@example.com" and email["references"] == ["first@example.com"]
    assert email["from"] == "support@helpline.test" and email["to"] == ["ana@example.com"]

    listed = (await client.get(f"/api/v1/conversations/{conversation.id}/messages", headers=world.agent.headers)).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert next(m for m in items if m["id"] == sent_id)["content"]["email"]["subject"] == email["subject"]

    response = await client.get(f"/api/v1/contacts/{conversation.contact_id}/export", headers=world.supervisor.headers)
    assert response.status_code == 200
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("export.json"))
    exported = next(m for m in document["messages"] if m["id"] == sent_id)
    assert exported["content"]["email"]["subject"] == email["subject"]


async def test_subject_token_threads_a_reply_without_headers_only_for_the_same_contact(
    runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    channel = await make_email_channel(runtime, email_settings(smtp))
    await receive(runtime, channel, customer_mail("a1@example.com", "primeira"))
    [conversation] = await conversations(runtime, channel.id)
    token = f"Re: Pedido [#{conversation.id}]"
    await receive(runtime, channel, customer_mail("a2@example.com", "de novo", subject=token))
    await receive(
        runtime, channel, customer_mail("b1@example.com", "intruso", subject=token, sender="Eve <eve@example.com>")
    )
    found = await conversations(runtime, channel.id)
    assert len(found) == 2
    assert [m.text for m in await messages(runtime, conversation.id)] == ["primeira", "de novo"]


async def test_bounce_marks_the_reply_failed_and_opens_no_conversation(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    channel = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    await receive(runtime, channel, customer_mail("q@example.com", "oi"))
    [conversation] = await conversations(runtime, channel.id)
    sent_id = await reply(client, world, conversation.id, "resposta")
    await drain(runtime)
    sent = next(m for m in await messages(runtime, conversation.id) if m.id == sent_id)
    await receive(runtime, channel, bounce_for(str(sent.provider_message_id)))
    await drain(runtime)
    failed = next(m for m in await messages(runtime, conversation.id) if m.id == sent_id)
    assert failed.delivery_state == "failed" and failed.error_code == "5.1.1"
    assert failed.error_reason == "550 5.1.1 <ana@example.com>: Recipient address rejected"
    assert len(await conversations(runtime, channel.id)) == 1
    assert len(await messages(runtime, conversation.id)) == 2


async def test_auto_reply_is_stored_but_never_routed_to_the_bot(runtime: Runtime, smtp: SmtpServer) -> None:
    channel = await make_email_channel(runtime, email_settings(smtp, bot_enabled=True))
    away = customer_mail("ooo@example.com", "I am out of office", headers={"Auto-Submitted": "auto-replied"})
    await receive(runtime, channel, away)
    [conversation] = await conversations(runtime, channel.id)
    [message] = await messages(runtime, conversation.id)
    assert message.content["email"]["automated"] == "Auto-Submitted: auto-replied"
    async with runtime.db.reads() as session:
        topics = list((await session.execute(select(OutboxRow.topic))).scalars())
    assert "routing.inbound" not in topics
    await receive(runtime, channel, customer_mail("p@example.com", "a person"))
    async with runtime.db.reads() as session:
        topics = list((await session.execute(select(OutboxRow.topic))).scalars())
    assert "routing.inbound" in topics


async def test_smtp_refusals_permanent_fail_with_the_reason_transient_retry(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    channel = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    await receive(runtime, channel, customer_mail("r@example.com", "oi"))
    [conversation] = await conversations(runtime, channel.id)
    smtp.mailroom.refuse_rcpt = ["550 5.1.1 <ana@example.com>: Recipient address rejected: User unknown"]
    refused = await reply(client, world, conversation.id, "primeira")
    await drain(runtime)
    message = next(m for m in await messages(runtime, conversation.id) if m.id == refused)
    assert message.delivery_state == "failed" and message.error_code == "smtp_550"
    assert "Recipient address rejected: User unknown" in str(message.error_reason)
    smtp.mailroom.refuse_rcpt = ["451 4.7.1 Greylisted, try again later"]
    retried = await reply(client, world, conversation.id, "segunda")
    for _ in range(20):
        await drain(runtime)
        message = next(m for m in await messages(runtime, conversation.id) if m.id == retried)
        if message.delivery_state != "queued":
            break
        await asyncio.sleep(0.05)
    assert message.delivery_state == "sent"
    assert len(smtp.mailroom.received) == 1


def test_bot_and_system_mails_carry_auto_submitted() -> None:
    settings = EmailSettings.model_validate(
        {"from_address": "s@helpline.test", "imap_host": "h", "smtp_host": "h", "message_id_salt": "x"}
    )
    for kind, value in (("bot", "auto-replied"), ("system", "auto-generated"), ("operator", None)):
        outbound = OutboundMessage(
            message_id=1,
            conversation_id=9,
            idempotency_key="k1",
            recipient_id="a@example.com",
            text="hi",
            author_kind=kind,
        )
        mail = build_mail(settings, outbound)
        assert mail["Auto-Submitted"] == value
        assert mail["Message-ID"] == build_mail(settings, outbound)["Message-ID"]  # stable on retries


async def test_password_login_is_used_and_a_wrong_one_flags_needs_reauth(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    channel = await make_email_channel(
        runtime, email_settings(smtp), credentials={"password": "wrong"}, member_ids=[world.agent.id]
    )
    await receive(runtime, channel, customer_mail("w@example.com", "oi"))
    [conversation] = await conversations(runtime, channel.id)
    refused = await reply(client, world, conversation.id, "x")
    await drain(runtime)
    message = next(m for m in await messages(runtime, conversation.id) if m.id == refused)
    assert message.delivery_state == "failed" and message.error_code == "smtp_535"
    async with runtime.db.reads() as session:
        row = await session.get(Channel, channel.id)
    assert row is not None and row.status == "needs_reauth"


async def test_mail_from_the_mailbox_itself_is_never_answered(runtime: Runtime, smtp: SmtpServer) -> None:
    channel = await make_email_channel(runtime, email_settings(smtp, bot_enabled=True))
    await receive(
        runtime, channel, customer_mail("self@helpline.test", "a copy", sender="Support <support@helpline.test>")
    )
    [conversation] = await conversations(runtime, channel.id)
    [message] = await messages(runtime, conversation.id)
    assert message.content["email"]["automated"] == "sent from this mailbox's own address"
    async with runtime.db.reads() as session:
        topics = list((await session.execute(select(OutboxRow.topic))).scalars())
    assert "routing.inbound" not in topics


async def test_reply_subject_never_stacks_reply_or_forward_prefixes(
    client: httpx.AsyncClient, runtime: Runtime, world: World, smtp: SmtpServer
) -> None:
    channel = await make_email_channel(runtime, email_settings(smtp), member_ids=[world.agent.id])
    # A customer forwards an old exchange to us: their client stacked the prefixes.
    await receive(
        runtime, channel, customer_mail("fw@example.com", "Vejam abaixo.", subject="ENC: RES: Re: Fatura de maio")
    )
    [conversation] = await conversations(runtime, channel.id)
    await reply(client, world, conversation.id, "Recebido.")
    await drain(runtime)
    token = f"[#{conversation.id}]"
    assert smtp.mailroom.received[0].message["Subject"] == f"Re: Fatura de maio {token}"
    # Their answer comes back as "RE: Re: … [#id]" (and with a stray copy of the token): still one "Re:".
    sent = next(m for m in await messages(runtime, conversation.id) if m.direction == "outbound")
    answer = customer_mail(
        "answer@example.com",
        "Obrigada",
        subject=f"RE: Re: Fatura de maio {token} {token}",
        in_reply_to=sent.provider_message_id,
    )
    await receive(runtime, channel, answer)
    await reply(client, world, conversation.id, "De nada.")
    await drain(runtime)
    assert smtp.mailroom.received[1].message["Subject"] == f"Re: Fatura de maio {token}"
