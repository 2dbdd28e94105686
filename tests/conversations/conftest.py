"""Fixtures and helpers for the inbox tests: conversations made through the signed inbound route or the ORM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from helpline.audit.models import AuditEntry
from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.channels.models import Channel
from helpline.contacts.models import Contact
from helpline.conversations.models import Conversation, Handler, Message, Priority, Status
from helpline.platform.clock import utcnow
from helpline.runtime import Runtime
from tests.conftest import Persona, World
from tests.support import post_inbound


@dataclass
class Line:
    """An API channel the tests can post customer messages to."""

    id: int
    secret: str


async def conversation_of(runtime: Runtime, message_id: int) -> int:
    async with runtime.db.sessions() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message.conversation_id


async def say(
    client: httpx.AsyncClient,
    runtime: Runtime,
    line: Line,
    *,
    contact_id: str,
    text: str,
    message_id: str,
    name: str | None = None,
    **message: Any,
) -> int:
    """Post one signed customer message; return the id of the conversation it landed in."""
    response = await post_inbound(
        client,
        line.id,
        line.secret,
        contact_id=contact_id,
        name=name or contact_id,
        message_id=message_id,
        text=text,
        **message,
    )
    assert response.status_code == 200, response.text
    return await conversation_of(runtime, response.json()["message_ids"][0])


async def add_api_channel(
    client: httpx.AsyncClient,
    admin: Persona,
    *,
    name: str,
    member_ids: list[int],
    bot: bool = False,
    profile_id: int | None = None,
) -> Line:
    body: dict[str, Any] = {
        "kind": "api",
        "name": name,
        "settings": {"bot_enabled": bot},
        "member_ids": member_ids,
        "profile_id": profile_id,
    }
    response = await client.post("/api/v1/channels", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    data = response.json()
    return Line(id=data["id"], secret=data["secrets"]["secret"])


async def insert_conversation(runtime: Runtime, *, kind: str, contact_name: str) -> int:
    """A conversation on a channel of a kind that has no adapter here (made directly in the database)."""
    async with runtime.db.transaction() as session:
        channel = Channel(kind=kind, name=f"{kind} line", settings={})
        contact = Contact(name=contact_name, attributes={})
        session.add_all([channel, contact])
        await session.flush()
        conversation = Conversation(
            channel_id=channel.id,
            contact_id=contact.id,
            status=Status.open.value,
            handler=Handler.human.value,
            priority=Priority.none.value,
            tags=[],
            bot_state={},
            last_activity_at=utcnow(),
        )
        session.add(conversation)
        await session.flush()
        return conversation.id


async def count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def audit_actions(runtime: Runtime, conversation_id: int) -> list[tuple[str, int | None]]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.operator_id)
            .where(AuditEntry.target_type == "conversation", AuditEntry.target_id == conversation_id)
            .order_by(AuditEntry.id)
        )
        return [(a, o) for a, o in rows.tuples()]


def principal_of(persona: Persona, *channel_ids: int) -> Principal:
    return Principal(operator_id=persona.id, role=Role(persona.role), channel_ids=frozenset(channel_ids))


@pytest.fixture
def line(world: World) -> Line:
    return Line(id=world.channel_id, secret=world.channel_secret)


@pytest.fixture
async def bot_line(client: httpx.AsyncClient, world: World) -> Line:
    """A second API channel where the bot answers first; `agent` is a member."""
    return await add_api_channel(client, world.admin, name="Bot line", member_ids=[world.agent.id], bot=True)
