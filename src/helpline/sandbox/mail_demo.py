"""The demo's mail: a local SMTP server (aiosmtpd) and a mailbox (a private Dovecot; without it, a simulated
mailbox), an email channel on them, and a customer who writes, gets the operator's reply and thanks for it.

With Dovecot installed the demo runs the real path: the customer's mail is APPENDed to the IMAP mailbox and
the workers' reader picks it up (IDLE). Without it the "simulated mailbox" hands the same raw mail straight to
the email adapter's parser and ingest — everything after IMAP is the same; the start-up log says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import secrets
import shutil
import tempfile
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from helpline.channels.actions import channel_config, create_channel
from helpline.channels.email.adapter import EmailAdapter
from helpline.channels.email.compose import reply_subject
from helpline.channels.email.models import MailboxCursor
from helpline.channels.models import Channel
from helpline.channels.schemas import ChannelCreate
from helpline.conversations.ingest import ingest_events
from helpline.platform.clock import utcnow
from helpline.runtime import Runtime
from helpline.sandbox.dovecot import DovecotFailed, PrivateDovecot, free_port

log = logging.getLogger(__name__)

CHANNEL_NAME = "E-mail — atendimento (demo)"
MAILBOX = "atendimento@segurozinho.example"
CUSTOMER = ("Carla Mendes", "carla.mendes@cliente.example")
FIRST_MESSAGE_ID = "demo-sinistro-1@cliente.example"
# A tiny but real PDF (the allowed-types check reads its leading bytes).
CLAIM_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def customer_mail(
    text: str,
    *,
    subject: str,
    message_id: str,
    in_reply_to: str | None = None,
    references: str | None = None,
    attachment: bool = False,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"{CUSTOMER[0]} <{CUSTOMER[1]}>"
    mail["To"] = MAILBOX
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = references or in_reply_to
    mail.set_content(text)
    if attachment:
        mail.add_attachment(CLAIM_PDF, maintype="application", subtype="pdf", filename="boletim-de-ocorrencia.pdf")
    return mail.as_bytes()


class DemoMail:
    def __init__(self, runtime: Runtime, profile_id: int | None, event_id: int | None) -> None:
        self.runtime = runtime
        self.profile_id, self.event_id = profile_id, event_id
        self.password = secrets.token_urlsafe(16)
        # Under /tmp, not the data folder: Dovecot's own users must reach it (a data folder may be private).
        self.root = Path(tempfile.mkdtemp(prefix="helpline-demo-mail-"))
        self.dovecot: PrivateDovecot | None = None
        self.smtp: Controller | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.channel_id: int | None = None
        self.outbox: list[bytes] = []  # what the "Internet" received from Helpline

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        dovecot = PrivateDovecot(self.root, {MAILBOX: self.password})
        try:
            await asyncio.to_thread(dovecot.start)
            self.dovecot = dovecot
            log.info("demo mail: Dovecot IMAP on 127.0.0.1:%s holds %s", dovecot.port, MAILBOX)
        except (DovecotFailed, OSError, KeyError) as exc:
            log.warning("demo mail: no Dovecot (%s); a SIMULATED mailbox feeds mail straight to the email adapter", exc)
        self.smtp = Controller(
            self, hostname="127.0.0.1", port=free_port(), authenticator=self._authenticate, auth_require_tls=False
        )
        self.smtp.start()
        self.channel_id = await self._channel()
        self.runtime.spawn(self._run(), "demo-mail")

    async def _channel(self) -> int:
        assert self.smtp is not None
        settings = {
            "from_address": MAILBOX,
            "display_name": "Segurozinho Atendimento",
            "imap_host": "127.0.0.1",
            "imap_port": self.dovecot.port if self.dovecot else 1,
            "imap_security": "none",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.smtp.port,
            "smtp_security": "none",
            "poll_interval_seconds": 10,
            "bot_enabled": False,
        }
        credentials = {"username": MAILBOX, "password": self.password}
        async with self.runtime.db.transaction() as session:
            existing = (await session.execute(select(Channel).where(Channel.name == CHANNEL_NAME))).scalar_one_or_none()
            if existing is not None:
                # The servers listen on new ports each start: point the channel at them.
                existing.settings = {**existing.settings, **settings}
                existing.credentials = self.runtime.box.seal(credentials)
                existing.status = "active" if self.dovecot else "disabled"
                return existing.id
            channel, _ = await create_channel(
                session,
                ChannelCreate(
                    kind="email",
                    name=CHANNEL_NAME,
                    profile_id=self.profile_id,
                    default_event_id=self.event_id,
                    settings=settings,
                    credentials=credentials,
                ),
                box=self.runtime.box,
                actor_id=None,
                allow_private=True,
            )
            # Without Dovecot nothing is to be read over IMAP: the reader stays off, sending still works.
            channel.status = "active" if self.dovecot else "disabled"
            return channel.id

    async def _run(self) -> None:
        try:
            if self.dovecot is not None:
                await self._reader_connected()
            await asyncio.sleep(min(self.runtime.settings.demo_interval_seconds, 30))
            await self.deliver(
                customer_mail(
                    "Bom dia,\n\nBateram no meu carro ontem no estacionamento. Como abro o sinistro? "
                    "Segue o boletim de ocorrência.\n\nObrigada,\nCarla",
                    subject="Sinistro do carro — como abrir?",
                    message_id=FIRST_MESSAGE_ID,
                    attachment=True,
                )
            )
            await asyncio.Event().wait()
        finally:
            if self.smtp is not None:
                self.smtp.stop()
            if self.dovecot is not None:
                await asyncio.to_thread(self.dovecot.stop)
            shutil.rmtree(self.root, ignore_errors=True)

    async def _reader_connected(self) -> None:
        """Wait for the workers' reader to have opened the mailbox: from then on, new mail is read."""
        while True:
            async with self.runtime.db.reads() as session:
                found = (
                    await session.execute(select(MailboxCursor).where(MailboxCursor.channel_id == self.channel_id))
                ).first()
            if found is not None:
                return
            await asyncio.sleep(1)

    async def deliver(self, raw: bytes) -> None:
        """A customer's mail reaches the support mailbox."""
        if self.dovecot is not None:
            await asyncio.to_thread(self._append, raw)
            return
        async with self.runtime.db.reads() as session:
            channel = await session.get(Channel, self.channel_id)
        assert channel is not None
        adapter = EmailAdapter(channel_config(channel, self.runtime.box, self.runtime.settings), self.runtime.http)
        await ingest_events(self.runtime, channel, adapter.events_from_mail(raw))

    def _append(self, raw: bytes) -> None:
        assert self.dovecot is not None
        client = imaplib.IMAP4(self.dovecot.host, self.dovecot.port)
        try:
            client.login(MAILBOX, self.password)
            client.append("INBOX", None, None, raw)
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        """The demo's submission server takes the mailbox's own login, like a provider's port 587."""
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            MAILBOX.encode(),
            self.password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd: Helpline sent a mail (runs on the SMTP server's own loop). The customer answers a reply."""
        raw = bytes(envelope.original_content or envelope.content or b"")
        self.outbox.append(raw)
        if CUSTOMER[1] in [str(r).lower() for r in envelope.rcpt_tos] and self.loop is not None:
            asyncio.run_coroutine_threadsafe(self._thank(raw), self.loop)
        return "250 2.0.0 Ok: queued"

    async def _thank(self, raw: bytes) -> None:
        reply = message_from_bytes(raw, policy=policy.default)
        if str(reply.get("Auto-Submitted", "no")).lower() != "no":
            return  # never answer the bot's automatic mails (RFC 3834)
        await asyncio.sleep(3)
        body = reply.get_body(("plain",))
        text = str(body.get_content()) if body is not None else ""
        quoted = "\n".join(f"> {line}" for line in text.splitlines())
        parent = str(reply["Message-ID"])
        await self.deliver(
            customer_mail(
                f"Perfeito, muito obrigada!\n\nEm {reply['Date']}, Segurozinho Atendimento escreveu:\n{quoted}",
                # As a real mail client does: one "Re:", whatever the subject already had.
                subject=reply_subject(str(reply["Subject"] or "")) or "Re:",
                message_id=make_msgid(domain="cliente.example").strip("<>"),
                in_reply_to=parent,
                references=f"{reply.get('References', '')} {parent}".strip(),
            )
        )


async def start_mail_demo(runtime: Runtime, profile_id: int | None, event_id: int | None) -> DemoMail:
    demo = DemoMail(runtime, profile_id, event_id)
    await demo.start()
    return demo
