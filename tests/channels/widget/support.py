"""Helpers for the widget tests: a widget channel, visitor sessions, and an operator's reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.runtime import Runtime

SHOP = "https://shop.example"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 64


@dataclass
class Widget:
    id: int
    identity_secret: str


@dataclass
class Visitor:
    channel_id: int
    session_id: str
    token: str
    verified: bool

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Origin": SHOP}

    @property
    def path(self) -> str:
        return f"/api/v1/widget/{self.channel_id}/sessions/{self.session_id}"


async def make_widget(runtime: Runtime, member_ids: list[int], **settings: Any) -> Widget:
    async with runtime.db.transaction() as session:
        channel, reveal = await create_channel(
            session,
            ChannelCreate(
                kind="widget",
                name="Website chat",
                settings={"allowed_origins": [SHOP], "bot_enabled": False, **settings},
                member_ids=member_ids,
            ),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    return Widget(id=channel.id, identity_secret=reveal["identity_secret"])


async def start(client: httpx.AsyncClient, widget_id: int, **body: Any) -> Visitor:
    response = await client.post(f"/api/v1/widget/{widget_id}/sessions", json=body, headers={"Origin": SHOP})
    assert response.status_code == 201, response.text
    data = response.json()
    return Visitor(widget_id, data["session_id"], data["token"], data["verified"])


async def say(client: httpx.AsyncClient, visitor: Visitor, text: str, client_id: str) -> dict[str, Any]:
    response = await client.post(
        f"{visitor.path}/messages", json={"text": text, "client_id": client_id}, headers=visitor.headers
    )
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()["message"]
    return message


async def history(client: httpx.AsyncClient, visitor: Visitor) -> list[dict[str, Any]]:
    response = await client.get(f"{visitor.path}/messages", headers=visitor.headers)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages
