"""A real SMTP server on loopback (aiosmtpd, in-process) that keeps what it receives and can refuse on cue."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed: EmailMessage = message_from_bytes(self.data, policy=policy.default)  # type: ignore[assignment]
        return parsed


@dataclass
class Mailroom:
    """The handler: `received` mails; `refuse_rcpt` answers the next RCPTs with that reply (e.g. "451 …")."""

    received: list[Received] = field(default_factory=list)
    refuse_rcpt: list[str] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content)))
        return "250 2.0.0 Ok: queued"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """SASL XOAUTH2 as Gmail runs it: `AUTH XOAUTH2 <base64>`; only the token "good-token" is accepted."""
        decoded = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        fields = dict(item.split("=", 1) for item in decoded.split("\x01") if "=" in item)
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        self.logins.append(("xoauth2", user))
        return AuthResult(success=bearer == "Bearer good-token", handled=False)


def authenticator(users: dict[str, str]) -> Any:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            ok = users.get(auth_data.login.decode()) == auth_data.password.decode()
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)

    return check


@dataclass
class SmtpServer:
    host: str
    port: int
    mailroom: Mailroom
    users: dict[str, str]


def running_smtp(users: dict[str, str] | None = None) -> Iterator[SmtpServer]:
    mailroom = Mailroom()
    users = {} if users is None else users
    port = free_port()
    kwargs: dict[str, Any] = {"data_size_limit": 64 * 1024 * 1024}
    if users:
        kwargs.update(authenticator=authenticator(users), auth_require_tls=False)
    controller = Controller(mailroom, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailroom, users)
    finally:
        controller.stop()
