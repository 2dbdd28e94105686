"""The demo's mail: a customer's mail reaches the demo mailbox (a private Dovecot), the operator's reply leaves
over the demo's SMTP server, and the customer's thank-you threads back into the same conversation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from helpline.channels.email.poller import read_mailbox
from helpline.conversations.actions import Author, send_reply
from helpline.conversations.models import AuthorKind, Conversation, Message
from helpline.runtime import Runtime
from helpline.sandbox.dovecot import dovecot_binary
from helpline.sandbox.mail_demo import DemoMail
from helpline.settings import Settings
from tests.channels.email.dovecot import REQUIRE
from tests.conftest import drain, make_settings


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url, demo_interval_seconds=0.1)


async def _read_until(runtime: Runtime, channel_id: int, count: int) -> list[Message]:
    for _ in range(100):
        await read_mailbox(runtime, channel_id, "demo-test", once=True)
        async with runtime.db.reads() as session:
            rows = list((await session.execute(select(Message).order_by(Message.id))).scalars())
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} messages arrived")


async def test_demo_mail_round_trip(runtime: Runtime) -> None:
    if dovecot_binary() is None:
        if REQUIRE:
            pytest.fail("Dovecot is not installed and HELPLINE_TEST_REQUIRE_SERVICES=1")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    demo = DemoMail(runtime, None, None)
    await demo.start()
    assert demo.dovecot is not None and demo.channel_id is not None
    await read_mailbox(runtime, demo.channel_id, "demo-test", once=True)  # the reader connects
    [first] = await _read_until(runtime, demo.channel_id, 1)
    assert first.text is not None and first.text.startswith("Bom dia,")
    async with runtime.db.transaction() as session:
        await send_reply(
            session,
            conversation_id=first.conversation_id,
            author=Author(AuthorKind.operator),
            text="Olá Carla, já abrimos o sinistro 4711.",
            blobs=runtime.blobs,
        )
    await drain(runtime)
    assert len(demo.outbox) == 1
    messages = await _read_until(runtime, demo.channel_id, 3)
    assert [m.text for m in messages][2] == "Perfeito, muito obrigada!"
    async with runtime.db.reads() as session:
        assert len(list((await session.execute(select(Conversation))).scalars())) == 1
