"""Messages of only invisible characters (zero-width space, ZWJ, BOM, whitespace): refused with a clear 422
where people write to us directly (the API channel, the website widget, operators' replies)."""

from __future__ import annotations

import httpx
import pytest

from helpline.platform.sanitize import is_blank
from helpline.runtime import Runtime
from tests.bot.conftest import Chat
from tests.channels.widget.support import make_widget, start
from tests.conftest import World
from tests.conversations.conftest import Line
from tests.support import post_inbound

INVISIBLE = ["\u200b", "\u200d\ufeff", " \u200b\n\t", "\u2060\u200e\u200f", "\u3164", "\ufe0f"]


@pytest.mark.parametrize("text", INVISIBLE)
def test_invisible_text_is_blank(text: str) -> None:
    assert is_blank(text)


@pytest.mark.parametrize("text", ["?", "ok", "👍", "❤️", "1", "\u200bPOL-123456"])
def test_visible_text_is_not(text: str) -> None:
    assert not is_blank(text)


@pytest.mark.parametrize("text", INVISIBLE)
async def test_api_channel_refuses_invisible_text(
    client: httpx.AsyncClient, world: World, bot_line: Line, text: str
) -> None:
    response = await post_inbound(client, bot_line.id, bot_line.secret, text=text)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "bad_payload"
    assert "invisible characters" in response.json()["error"]["message"]


async def test_widget_refuses_invisible_text(client: httpx.AsyncClient, runtime: Runtime, world: World) -> None:
    widget = await make_widget(runtime, [world.agent.id], bot_enabled=True)
    visitor = await start(client, widget.id)
    for number, text in enumerate(INVISIBLE):
        body = {"text": text, "client_id": f"c{number}"}
        response = await client.post(f"{visitor.path}/messages", json=body, headers=visitor.headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "empty_message"
    # The page's CORS headers come with the error, so the widget can show it.
    assert response.headers["access-control-allow-origin"] == "https://shop.example"


async def test_operator_reply_refuses_invisible_text(
    client: httpx.AsyncClient, runtime: Runtime, world: World, chat: Chat
) -> None:
    await chat("hello there, my order is late")
    url = f"/api/v1/conversations/{chat.conversation_id}/messages"
    for text in INVISIBLE:
        response = await client.post(url, json={"text": text}, headers=world.agent.headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "empty_reply"
    sent = await client.post(url, json={"text": "\u200bWe are on it."}, headers=world.agent.headers)
    assert sent.status_code == 201, sent.text
