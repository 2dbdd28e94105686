"""Reading a real mailbox (a private Dovecot on loopback): new mail, threading back, flags untouched,
UIDVALIDITY change, a reader killed mid-fetch, IDLE, the lease between readers, a refused login, 20 MB."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpline.channels.email import poller
from helpline.channels.email.adapter import EmailAdapter
from helpline.channels.email.models import MailboxCursor
from helpline.channels.email.poller import hold_lease, read_mailbox, read_mailbox_forever, release_lease
from helpline.channels.models import Channel
from helpline.conversations.models import Message
from helpline.runtime import Runtime
from tests.channels.email.conftest import email_settings, make_email_channel
from tests.channels.email.dovecot import PASSWORD, Dovecot
from tests.channels.email.mails import customer_mail
from tests.channels.email.smtp_server import SmtpServer
from tests.channels.email.test_email_flow import conversations, messages, reply
from tests.conftest import World, drain


async def mailbox_channel(
    runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer, member_ids: list[int] | None = None, **overrides: Any
) -> tuple[Channel, str]:
    user = dovecot.add_user()
    smtp.users[user] = PASSWORD
    settings = email_settings(smtp, imap_host=dovecot.host, imap_port=dovecot.port, from_address=user, **overrides)
    channel = await make_email_channel(
        runtime, settings, credentials={"username": user, "password": PASSWORD}, member_ids=member_ids
    )
    # The first session starts the cursor at the mailbox's end: history before connecting is not imported.
    await read_mailbox(runtime, channel.id, "test-reader", once=True)
    await release_lease(runtime, channel.id, "test-reader")
    return channel, user


async def all_messages(runtime: Runtime, channel_id: int) -> list[Message]:
    async with runtime.db.reads() as session:
        rows = await session.execute(select(Message).where(Message.channel_id == channel_id).order_by(Message.id))
        return list(rows.scalars())


async def test_new_mail_opens_a_conversation_and_leaves_the_flags_alone(
    runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    user = dovecot.add_user()
    dovecot.append(user, customer_mail("history@example.com", "an old mail"))
    settings = email_settings(smtp, imap_host=dovecot.host, imap_port=dovecot.port, from_address=user)
    channel = await make_email_channel(runtime, settings, credentials={"username": user, "password": PASSWORD})
    await read_mailbox(runtime, channel.id, "test-reader", once=True)
    assert await all_messages(runtime, channel.id) == []  # history before connecting stays in the mailbox

    dovecot.append(user, customer_mail("new-1@example.com", "Olá, preciso de ajuda"))
    await read_mailbox(runtime, channel.id, "test-reader", once=True)
    [conversation] = await conversations(runtime, channel.id)
    [message] = await messages(runtime, conversation.id)
    assert (message.text, message.provider_message_id) == ("Olá, preciso de ajuda", "new-1@example.com")
    assert all(b"\\Seen" not in flags for flags in dovecot.flags(user))
    async with runtime.db.reads() as session:
        cursor = await session.get(MailboxCursor, (channel.id, "INBOX"))
    assert cursor is not None and cursor.last_uid == 2


async def test_full_round_trip_through_imap_and_smtp(
    client: httpx.AsyncClient, runtime: Runtime, world: World, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    channel, user = await mailbox_channel(runtime, dovecot, smtp, member_ids=[world.agent.id])
    pdf = b"%PDF-1.4\n%pedido\n"
    dovecot.append(
        user, customer_mail("c1@example.com", "Meu pedido?", to=user, files=[("pedido.pdf", "application/pdf", pdf)])
    )
    await read_mailbox(runtime, channel.id, "test-reader", once=True)
    [conversation] = await conversations(runtime, channel.id)
    await reply(client, world, conversation.id, "Já enviamos.", file=True)
    await drain(runtime)
    [sent] = smtp.mailroom.received
    out = sent.message
    assert out["In-Reply-To"] == "<c1@example.com>" and out["From"] == f"Acme Support <{user}>"
    assert [a.get_filename() for a in out.iter_attachments()] == ["recibo.pdf"]
    our_id = str(out["Message-ID"]).strip("<>")
    dovecot.append(
        user,
        customer_mail(
            "c2@example.com",
            "Recebi, obrigada!\n\nOn Mon, Acme Support wrote:\n> Já enviamos.",
            subject=str(out["Subject"]),
            to=user,
            in_reply_to=our_id,
            references=["c1@example.com", our_id],
        ),
    )
    await read_mailbox(runtime, channel.id, "test-reader", once=True)
    assert [c.id for c in await conversations(runtime, channel.id)] == [conversation.id]
    found = [(m.direction, m.text) for m in await messages(runtime, conversation.id)]
    assert found == [("inbound", "Meu pedido?"), ("outbound", "Já enviamos."), ("inbound", "Recebi, obrigada!")]
    response = await client.get(f"/api/v1/conversations/{conversation.id}/messages", headers=world.agent.headers)
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    assert [a["filename"] for a in items[0]["attachments"]] == ["pedido.pdf"]


async def test_uidvalidity_change_rereads_without_duplicates(
    runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    user = dovecot.add_user()
    with dovecot.session(user) as session:
        session.create("Support")
    settings = email_settings(
        smtp, imap_host=dovecot.host, imap_port=dovecot.port, from_address=user, mailbox="Support"
    )
    channel = await make_email_channel(runtime, settings, credentials={"username": user, "password": PASSWORD})
    await read_mailbox(runtime, channel.id, "r", once=True)
    first = customer_mail("uv-1@example.com", "primeira")
    dovecot.append(user, first, "Support")
    await read_mailbox(runtime, channel.id, "r", once=True)
    async with runtime.db.reads() as session:
        before = await session.get(MailboxCursor, (channel.id, "Support"))
    assert before is not None
    await asyncio.sleep(1.1)  # Dovecot derives a new UIDVALIDITY from the clock
    with dovecot.session(user) as session:
        session.delete("Support")
        session.create("Support")
    dovecot.append(user, first, "Support")  # the same mail again, under new UIDs
    dovecot.append(user, customer_mail("uv-2@example.com", "segunda"), "Support")
    await read_mailbox(runtime, channel.id, "r", once=True)
    assert [m.provider_message_id for m in await all_messages(runtime, channel.id)] == [
        "uv-1@example.com",
        "uv-2@example.com",
    ]
    async with runtime.db.reads() as session:
        after = await session.get(MailboxCursor, (channel.id, "Support"))
    assert after is not None and after.uidvalidity != before.uidvalidity and after.last_uid == 2


async def test_reader_killed_mid_fetch_loses_nothing_and_duplicates_nothing(
    runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, user = await mailbox_channel(runtime, dovecot, smtp)
    for n in range(1, 4):
        dovecot.append(user, customer_mail(f"k{n}@example.com", f"mensagem {n}"))
    stored_second = asyncio.Event()
    real_ingest = poller.ingest_events
    calls = 0

    async def ingest_then_die(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = await real_ingest(*args, **kwargs)
        calls += 1
        if calls == 2:
            stored_second.set()
            await asyncio.sleep(3600)  # killed here: the mail is committed, the cursor not yet moved
        return result

    monkeypatch.setattr(poller, "ingest_events", ingest_then_die)
    monkeypatch.setattr(poller, "LEASE_SECONDS", 1.0)
    task = asyncio.create_task(read_mailbox(runtime, channel.id, "doomed", once=True))
    await asyncio.wait_for(stored_second.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(poller, "ingest_events", real_ingest)
    assert [m.text for m in await all_messages(runtime, channel.id)] == ["mensagem 1", "mensagem 2"]
    async with runtime.db.reads() as session:
        cursor = await session.get(MailboxCursor, (channel.id, "INBOX"))
    assert cursor is not None and cursor.last_uid == 1

    # Another worker gets the mailbox once the killed reader's lease lapsed; it reads 2 again (dropped as a
    # duplicate) and 3.
    await read_mailbox(runtime, channel.id, "successor", once=True)
    assert len(await all_messages(runtime, channel.id)) == 2  # the lease has not lapsed yet
    await asyncio.sleep(1.1)
    await read_mailbox(runtime, channel.id, "successor", once=True)
    assert [m.text for m in await all_messages(runtime, channel.id)] == ["mensagem 1", "mensagem 2", "mensagem 3"]


async def test_idle_push_delivers_without_waiting_for_the_poll(
    runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One IDLE may then last 200 s and the poll is an hour away: only the server's push can bring the mail.
    monkeypatch.setattr(poller, "LEASE_SECONDS", 600.0)
    channel, user = await mailbox_channel(runtime, dovecot, smtp, poll_interval_seconds=3600)
    task = asyncio.create_task(read_mailbox(runtime, channel.id, "idler"))
    try:
        await asyncio.sleep(1.0)  # the reader is in IDLE now (or about to be: Dovecot reports what came before)
        dovecot.append(user, customer_mail("idle-1@example.com", "chegou na hora"))
        for _ in range(300):
            if await all_messages(runtime, channel.id):
                break
            await asyncio.sleep(0.1)
        assert [m.text for m in await all_messages(runtime, channel.id)] == ["chegou na hora"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_polling_when_idle_is_off(runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer) -> None:
    channel, user = await mailbox_channel(runtime, dovecot, smtp, poll_interval_seconds=0.3, use_idle=False)
    task = asyncio.create_task(read_mailbox(runtime, channel.id, "poller"))
    try:
        dovecot.append(user, customer_mail("poll-1@example.com", "por polling"))
        for _ in range(100):
            if await all_messages(runtime, channel.id):
                break
            await asyncio.sleep(0.1)
        assert [m.text for m in await all_messages(runtime, channel.id)] == ["por polling"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_one_reader_per_mailbox(runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer) -> None:
    channel, user = await mailbox_channel(runtime, dovecot, smtp)
    assert await hold_lease(runtime, channel.id, "worker-a", seconds=0.5)
    assert not await hold_lease(runtime, channel.id, "worker-b")
    dovecot.append(user, customer_mail("lease-1@example.com", "só um leitor"))
    await read_mailbox(runtime, channel.id, "worker-b", once=True)
    assert await all_messages(runtime, channel.id) == []  # b did not read while a held the mailbox
    await asyncio.sleep(0.6)
    await read_mailbox(runtime, channel.id, "worker-b", once=True)
    assert len(await all_messages(runtime, channel.id)) == 1


async def test_refused_login_flags_needs_reauth(runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer) -> None:
    user = dovecot.add_user()
    settings = email_settings(smtp, imap_host=dovecot.host, imap_port=dovecot.port, from_address=user)
    channel = await make_email_channel(runtime, settings, credentials={"username": user, "password": "wrong"})
    await asyncio.wait_for(read_mailbox_forever(runtime, channel.id), 30)
    async with runtime.db.reads() as session:
        row = await session.get(Channel, channel.id)
    assert row is not None and row.status == "needs_reauth"
    assert "refused the login" in str(row.status_reason)


async def test_a_20_mb_mail_arrives_with_its_attachment(runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer) -> None:
    channel, user = await mailbox_channel(runtime, dovecot, smtp)
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * (20 * 1024 * 1024 // 256)
    dovecot.append(user, customer_mail("big@example.com", "o vídeo", files=[("v.mp4", "video/mp4", video)]))
    await read_mailbox(runtime, channel.id, "r", once=True)
    [message] = await all_messages(runtime, channel.id)
    response_rows = await _attachments(runtime, message.id)
    assert [(a.filename, a.size, a.state) for a in response_rows] == [("v.mp4", len(video), "stored")]


async def _attachments(runtime: Runtime, message_id: int) -> list[Any]:
    from helpline.attachments.models import Attachment

    async with runtime.db.reads() as session:
        rows = await session.execute(select(Attachment).where(Attachment.message_id == message_id))
        return list(rows.scalars())


async def test_new_credentials_clear_needs_reauth_only_when_the_server_accepts_them(
    client: httpx.AsyncClient, runtime: Runtime, world: World, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    user = dovecot.add_user()
    settings = email_settings(smtp, imap_host=dovecot.host, imap_port=dovecot.port, from_address=user)
    channel = await make_email_channel(runtime, settings, credentials={"username": user, "password": "wrong"})
    await asyncio.wait_for(read_mailbox_forever(runtime, channel.id), 30)
    url = f"/api/v1/channels/{channel.id}"
    response = await client.patch(url, json={"credentials": {"password": "still-wrong"}}, headers=world.admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "needs_reauth"
    response = await client.patch(url, json={"credentials": {"password": PASSWORD}}, headers=world.admin.headers)
    assert response.status_code == 200 and response.json()["status"] == "active"


async def test_a_mail_the_parser_chokes_on_is_kept_and_the_reader_goes_on(
    runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel, user = await mailbox_channel(runtime, dovecot, smtp)
    poison = customer_mail("poison@example.com", "boom")
    dovecot.append(user, poison)
    dovecot.append(user, customer_mail("fine@example.com", "depois"))
    real = EmailAdapter.events_from_mail

    def choke(self: EmailAdapter, raw: bytes, **kwargs: Any) -> list[Any]:
        if b"poison@example.com" in raw:
            raise ValueError("parser bug")
        return real(self, raw, **kwargs)

    monkeypatch.setattr(EmailAdapter, "events_from_mail", choke)
    await read_mailbox(runtime, channel.id, "r", once=True)
    first, second = await all_messages(runtime, channel.id)
    assert first.content["email"]["errors"] == ["ValueError: parser bug"]
    [original] = await _attachments(runtime, first.id)
    # Dovecot stores lines with CRLF, as IMAP serves them (RFC 3501 §4.3).
    expected = poison.replace(b"\n", b"\r\n")
    assert (original.filename, original.size, original.state) == ("original.eml", len(expected), "stored")
    assert second.text == "depois"


async def test_a_mail_server_that_refuses_connections_is_one_warning_line_then_read_when_back(
    runtime: Runtime, dovecot: Dovecot, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """#18: a refused connection (the demo's Dovecot not up yet, a server restarting) is an expected outage: a
    WARNING without a traceback, retried with backoff — and once the channel points at a live server, read."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    user = dovecot.add_user()
    settings = email_settings(smtp, imap_host=dovecot.host, imap_port=closed_port, from_address=user)
    channel = await make_email_channel(runtime, settings, credentials={"username": user, "password": PASSWORD})
    caplog.set_level(logging.WARNING, logger=poller.log.name)
    reader = asyncio.create_task(read_mailbox_forever(runtime, channel.id))
    try:
        refused: list[logging.LogRecord] = []
        for _ in range(200):  # the first attempt and one retry after 1 s (a loaded machine is slow to connect)
            refused = [r for r in caplog.records if r.name == poller.log.name]
            if len(refused) >= 2:
                break
            await asyncio.sleep(0.1)
        assert len(refused) >= 2, refused
        assert all(r.levelno == logging.WARNING and r.exc_info is None for r in refused), refused
        assert "mailbox not reachable" in refused[0].getMessage()
        assert "Connection refused" in refused[0].getMessage()
        assert "retrying in 1 s" in refused[0].getMessage() and "retrying in 2 s" in refused[1].getMessage()
        async with runtime.db.transaction() as session:
            row = await session.get(Channel, channel.id)
            assert row is not None
            row.settings = {**row.settings, "imap_port": dovecot.port}
        for _ in range(100):
            async with runtime.db.reads() as session:
                cursor = (
                    await session.execute(select(MailboxCursor).where(MailboxCursor.channel_id == channel.id))
                ).first()
            if cursor is not None:
                break
            await asyncio.sleep(0.1)
        assert cursor is not None, "the reader never opened the mailbox once the server was reachable"
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
