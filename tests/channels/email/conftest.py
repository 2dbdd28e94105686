"""Email channel fixtures: a real SMTP server on loopback and an email channel pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpline.channels.actions import create_channel
from helpline.channels.models import Channel
from helpline.channels.schemas import ChannelCreate
from helpline.runtime import Runtime
from tests.channels.email.dovecot import Dovecot, start_dovecot
from tests.channels.email.smtp_server import SmtpServer, running_smtp

MAILBOX = "support@helpline.test"
PASSWORD = "mailbox-password"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp({MAILBOX: PASSWORD})


def email_settings(smtp: SmtpServer, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "from_address": MAILBOX,
        "display_name": "Acme Support",
        "imap_host": "127.0.0.1",
        "imap_port": 1,
        "imap_security": "none",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "bot_enabled": False,
    }
    values.update(overrides)
    return values


async def make_email_channel(
    runtime: Runtime,
    settings: dict[str, Any],
    credentials: dict[str, Any] | None = None,
    member_ids: list[int] | None = None,
) -> Channel:
    async with runtime.db.transaction() as session:
        channel, _ = await create_channel(
            session,
            ChannelCreate(
                kind="email",
                name="Support mailbox",
                settings=settings,
                credentials=credentials or {"username": MAILBOX, "password": PASSWORD},
                member_ids=member_ids or [],
            ),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    return channel


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    yield from start_dovecot()
