"""WhatsApp, Messenger and Instagram end to end over real HTTP: Helpline and the Meta sandbox, each under uvicorn.

The sandbox's customers send signed webhooks (ASCII-escaped bytes, as Meta does) to Helpline's /webhooks/meta;
Helpline's workers call the sandbox's Graph API; the sandbox answers with status webhooks and echoes. Both clocks
(the sandbox's and Helpline's) move together to close reply windows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import update
from websockets.asyncio.client import ClientConnection, connect

from helpline.auth.actions import create_operator
from helpline.auth.models import Role
from helpline.auth.schemas import OperatorCreate
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.conversations.actions import BOT, send_reply
from helpline.conversations.models import Conversation, Handler
from helpline.engagement.windows import ReplyNotAllowed
from helpline.platform.clock import clock
from helpline.sandbox.meta.app import create_sandbox_app
from helpline.sandbox.meta.core import MetaSandbox
from helpline.sandbox.meta.standalone import ASSETS, populate
from helpline.sandbox.meta.state import Call
from tests.conftest import PASSWORD, login
from tests.e2e.conftest import LiveApp, bound_socket, eventually, next_frame, serve_app, uvicorn_on

APP_SECRET = "e2e-meta-app-secret"
VERIFY_TOKEN = "e2e-verify-token"
VERSION = "v21.0"
WAIT = 5.0
WA_ID = "5511987654321"
PSID = "2400000000000001"
IGSID = "1788000000000042"
DAY = 24 * 3600


@dataclass
class Stack:
    live: LiveApp
    sandbox: MetaSandbox
    sandbox_url: str
    admin_token: str
    agent_token: str
    channels: dict[str, int]

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.agent_token}"}

    async def relogin(self) -> None:
        """After the clock jumps a day, the operators' sessions have expired, as they would have."""
        self.admin_token = await login(self.live.client, "admin@example.com")
        self.agent_token = await login(self.live.client, "agent@example.com")
        self.live.client.cookies.clear()

    def advance(self, seconds: float) -> None:
        """Move Meta's clock and Helpline's together."""
        self.sandbox.advance_clock(timedelta(seconds=seconds))
        clock.offset_seconds += seconds

    async def conversations(self, kind: str) -> list[dict[str, Any]]:
        r = await self.live.client.get("/api/v1/conversations", params={"channel_kind": kind}, headers=self.headers())
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    async def only_conversation(self, kind: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        async def listed() -> bool:
            found[:] = await self.conversations(kind)
            return bool(found)

        await eventually(listed, timeout=WAIT)
        assert len(found) == 1, found
        return found[0]

    async def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        r = await self.live.client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=self.headers())
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return sorted(items, key=lambda m: m["id"])

    async def message(self, conversation_id: int, message_id: int) -> dict[str, Any]:
        (found,) = [m for m in await self.messages(conversation_id) if m["id"] == message_id]
        return found

    async def reply(self, conversation_id: int, body: dict[str, Any]) -> Any:
        return await self.live.client.post(
            f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=self.headers()
        )

    async def wait_state(self, conversation_id: int, message_id: int, state: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        async def reached() -> bool:
            seen.update(await self.message(conversation_id, message_id))
            return bool(seen["delivery_state"] == state)

        try:
            await eventually(reached, timeout=WAIT)
        except TimeoutError:
            raise AssertionError(f"message {message_id} never reached {state}: {seen}") from None
        return seen

    async def graph_send(self, asset_id: str, count: int = 1) -> list[Call]:
        """The first `count` POSTs to /{asset}/messages that the sandbox received (bounded wait)."""
        path = f"/{VERSION}/{asset_id}/messages"

        def sends() -> list[Call]:
            return [c for c in self.sandbox.calls if c.method == "POST" and c.path == path and c.status]

        async def arrived() -> bool:
            return len(sends()) >= count

        try:
            await eventually(arrived, timeout=WAIT)
        except TimeoutError:
            raise AssertionError(f"no Graph call to {path}: {self.sandbox.calls}") from None
        return sends()

    async def socket(self) -> ClientConnection:
        ws = await connect(
            self.live.ws_url, additional_headers={"Authorization": f"Bearer {self.agent_token}"}, open_timeout=WAIT
        )
        hello = await next_frame(ws, timeout=WAIT)
        assert hello["type"] == "hello"
        return ws


@contextlib.asynccontextmanager
async def serve_sandbox(sandbox: MetaSandbox) -> AsyncIterator[str]:
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sandbox.public_url = url
    config = uvicorn.Config(create_sandbox_app(sandbox), log_level="warning", lifespan="off")
    async with uvicorn_on(sock, config):
        yield url


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.offset_seconds = 0.0
    try:
        yield
    finally:
        clock.offset_seconds = 0.0


@pytest.fixture
async def stack(tmp_path: Path, db_url: str) -> AsyncIterator[Stack]:
    sandbox = populate(MetaSandbox(app_secret=APP_SECRET))
    try:
        async with (
            serve_sandbox(sandbox) as sandbox_url,
            serve_app(
                tmp_path,
                db_url,
                outbox_poll_seconds=0.05,
                meta_graph_url=sandbox_url,
                meta_graph_version=VERSION,
                meta_app_secret=APP_SECRET,
                meta_verify_token=VERIFY_TOKEN,
                meta_app_id=sandbox.app_id,
                allow_private_targets=True,
            ) as live,
        ):
            sandbox.callback_url = f"{live.base_url}/webhooks/meta"
            channels = await _seed(live)
            admin_token = await login(live.client, "admin@example.com")
            agent_token = await login(live.client, "agent@example.com")
            live.client.cookies.clear()
            yield Stack(live, sandbox, sandbox_url, admin_token, agent_token, channels)
            # Follow-ups still queued would otherwise post to a server that is going away.
            await sandbox.drain(WAIT)
    finally:
        await sandbox.aclose()


async def _seed(live: LiveApp) -> dict[str, int]:
    specs: dict[str, tuple[dict[str, Any], str]] = {
        "whatsapp": ({"phone_number_id": ASSETS.phone_number_id, "waba_id": ASSETS.waba_id}, ASSETS.whatsapp_token),
        "messenger": ({"page_id": ASSETS.page_id}, ASSETS.page_token),
        "instagram": ({"ig_account_id": ASSETS.instagram_id, "page_id": ASSETS.page_id}, ASSETS.instagram_token),
    }
    channels: dict[str, int] = {}
    async with live.runtime.db.transaction() as session:
        ids: dict[str, int] = {}
        for name, role in (("admin", Role.admin), ("agent", Role.agent)):
            operator = await create_operator(
                session,
                OperatorCreate(email=f"{name}@example.com", name=name.title(), password=PASSWORD, role=role),
                actor_id=None,
            )
            ids[name] = operator.id
        for kind, (settings, token) in specs.items():
            channel, _ = await create_channel(
                session,
                ChannelCreate(
                    kind=kind,
                    name=f"E2E {kind}",
                    settings={**settings, "bot_enabled": False},
                    credentials={"access_token": token},
                    member_ids=[ids["agent"]],
                ),
                box=live.runtime.box,
                actor_id=None,
                allow_private=True,
            )
            channels[kind] = channel.id
    return channels


def _is(kind: str, direction: str | None = None, message_id: int | None = None) -> Any:
    def match(frame: dict[str, Any]) -> bool:
        data = frame.get("data") or {}
        return bool(
            frame.get("type") == kind
            and (direction is None or data.get("direction") == direction)
            and (message_id is None or data.get("id") == message_id)
        )

    return match


# ---------------------------------------------------------------- WhatsApp


async def test_whatsapp_message_reply_and_statuses(stack: Stack) -> None:
    sandbox = stack.sandbox
    ws = await stack.socket()
    try:
        # 1. A customer writes, with a non-ASCII name and text; the sandbox signs the ASCII-escaped bytes.
        text = "Olá! Meu pedido não chegou — ação urgente 🚚"
        wamid = await sandbox.customer_says(ASSETS.phone_number_id, WA_ID, text, name="João Conceição")
        delivery = sandbox.webhooks.deliveries[-1]
        assert delivery.status == 200, delivery.error
        assert b"\\u00e3" in delivery.body and delivery.body.isascii()

        # 2. The conversation appears in the inbox, and the operator's socket sees the message.
        conversation = await stack.only_conversation("whatsapp")
        conversation_id = conversation["id"]
        assert await stack.conversations("messenger") == []
        created = await next_frame(ws, _is("message.created", "inbound"), timeout=WAIT)
        assert created["conversation_id"] == conversation_id
        assert created["data"]["text"] == text
        assert created["data"]["provider_message_id"] == wamid

        # 3. Meta redelivers the same event (same bytes, same signature): still one message.
        again = await sandbox.retry_last()
        assert again.status == 200, again.error
        inbound = [m for m in await stack.messages(conversation_id) if m["direction"] == "inbound"]
        assert [m["provider_message_id"] for m in inbound] == [wamid]
        assert len(await stack.conversations("whatsapp")) == 1

        # 4. The operator replies; the sandbox receives the Cloud API call.
        reply = await stack.reply(conversation_id, {"text": "Já estamos a ver, João! 👍"})
        assert reply.status_code == 201, reply.text
        message_id = reply.json()["id"]
        sends = [c for c in await stack.graph_send(ASSETS.phone_number_id) if (c.json or {}).get("type") == "text"]
        (call,) = sends
        assert call.status == 200, call.response
        assert call.token == ASSETS.whatsapp_token  # sent as `Authorization: Bearer`, not in the query
        assert "access_token" not in call.query
        assert call.json is not None
        assert call.json["messaging_product"] == "whatsapp"
        assert call.json["to"] == WA_ID
        assert call.json["text"]["body"] == "Já estamos a ver, João! 👍"
        provider_id = call.response["messages"][0]["id"]

        # 5. Status webhooks move it to delivered, then read (seen live on the socket, and in the API).
        states: list[str] = []

        async def until_read() -> None:
            while "read" not in states:
                frame = await next_frame(ws, _is("message.updated", message_id=message_id), timeout=WAIT)
                state = frame["data"]["delivery_state"]
                if not states or states[-1] != state:
                    states.append(state)

        await asyncio.wait_for(until_read(), WAIT * 2)
        assert "delivered" in states and states.index("delivered") < states.index("read"), states
        final = await stack.wait_state(conversation_id, message_id, "read")
        assert final["provider_message_id"] == provider_id
        assert final["direction"] == "outbound" and final["author_kind"] == "operator"
    finally:
        await ws.close()


async def test_whatsapp_after_the_window_free_text_409_then_template(stack: Stack) -> None:
    sandbox = stack.sandbox
    await sandbox.customer_says(ASSETS.phone_number_id, WA_ID, "Bom dia, ainda há stock?", name="Ana Sá")
    conversation_id = (await stack.only_conversation("whatsapp"))["id"]

    # The customer's last message is now 25 hours old, for Meta and for Helpline.
    stack.advance(DAY + 3600)
    await stack.relogin()
    detail = await stack.live.client.get(f"/api/v1/conversations/{conversation_id}", headers=stack.headers())
    assert detail.status_code == 200, detail.text
    assert detail.json()["window"]["state"] == "closed"

    calls_before = len(sandbox.calls)
    refused = await stack.reply(conversation_id, {"text": "Ainda está aí?"})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "reply_window_closed"
    assert "template" in error["message"] and error["details"]["allowed"] == ["template"]

    # Templates come from the sandbox's WABA (the admin syncs them).
    synced = await stack.live.client.post(
        f"/api/v1/channels/{stack.channels['whatsapp']}/templates/sync", headers=stack.headers(stack.admin_token)
    )
    assert synced.status_code == 200, synced.text
    assert synced.json()["templates"] >= 3
    assert any(c.path == f"/{VERSION}/{ASSETS.waba_id}/message_templates" for c in sandbox.calls[calls_before:])
    listed = await stack.live.client.get(
        f"/api/v1/channels/{stack.channels['whatsapp']}/templates", headers=stack.headers()
    )
    assert listed.status_code == 200, listed.text
    by_name = {t["name"]: t for t in listed.json()}
    assert by_name["order_update"]["status"] == "APPROVED"
    assert by_name["summer_promo"]["status"] == "PAUSED"
    assert not [c for c in sandbox.calls[calls_before:] if c.path.endswith("/messages")]  # the 409 sent nothing

    sent = await stack.reply(
        conversation_id,
        {"template": {"name": "order_update", "language": "en_US", "parameters": ["Ana", "A-42"]}},
    )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    assert sent.json()["content_type"] == "template"

    (call,) = await stack.graph_send(ASSETS.phone_number_id)
    assert call.status == 200, call.response
    assert call.json is not None
    assert call.json["type"] == "template" and call.json["to"] == WA_ID
    template = call.json["template"]
    assert template["name"] == "order_update" and template["language"] == {"code": "en_US"}
    body_params = [p for c in template["components"] if c["type"].lower() == "body" for p in c["parameters"]]
    assert body_params == [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-42"}]
    (outcome,) = [s for s in sandbox.sent if s.body.get("type") == "template"]
    assert outcome.outcome == "accepted" and outcome.recipient == WA_ID

    delivered = await stack.wait_state(conversation_id, message_id, "read")
    assert delivered["provider_message_id"] == call.response["messages"][0]["id"]


# ---------------------------------------------------------------- Messenger


async def test_messenger_response_then_human_agent_and_no_bot(stack: Stack) -> None:
    sandbox = stack.sandbox
    await sandbox.customer_says(ASSETS.page_id, PSID, "Olá, preciso de ajuda com a fatura", name="Inês")
    conversation_id = (await stack.only_conversation("messenger"))["id"]

    # Inside 24 h: RESPONSE.
    first = await stack.reply(conversation_id, {"text": "Claro, Inês! Qual é o número?"})
    assert first.status_code == 201, first.text
    (call,) = await stack.graph_send(ASSETS.page_id)
    assert call.status == 200, call.response
    assert call.token == ASSETS.page_token
    assert call.json is not None
    assert call.json["recipient"] == {"id": PSID}
    assert call.json["messaging_type"] == "RESPONSE" and "tag" not in call.json
    assert call.json["message"]["text"] == "Claro, Inês! Qual é o número?"
    await stack.wait_state(conversation_id, first.json()["id"], "read")

    # The sandbox echoed our send back (is_echo + our app id): no second outbound message appears.
    await sandbox.drain(WAIT)
    echoes = [d for d in sandbox.webhooks.deliveries if b'"is_echo":true' in d.body]
    assert echoes and all(d.status == 200 for d in echoes)
    messages = await stack.messages(conversation_id)
    assert [(m["direction"], m["author_kind"]) for m in messages] == [("inbound", "contact"), ("outbound", "operator")]

    # 25 h later: only a person may write, with MESSAGE_TAG + HUMAN_AGENT, and the sandbox accepts it.
    stack.advance(DAY + 3600)
    await stack.relogin()
    late = await stack.reply(conversation_id, {"text": "Desculpe a demora, já está resolvido."})
    assert late.status_code == 201, late.text
    _, tagged = await stack.graph_send(ASSETS.page_id, 2)
    assert tagged.json is not None
    assert tagged.json["messaging_type"] == "MESSAGE_TAG" and tagged.json["tag"] == "HUMAN_AGENT"
    assert tagged.status == 200, tagged.response
    await stack.wait_state(conversation_id, late.json()["id"], "read")

    # The bot, in the same span, is refused before anything reaches Meta.
    runtime = stack.live.runtime
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(handler=Handler.bot.value)
        )
    calls_before = len(sandbox.calls)
    with pytest.raises(ReplyNotAllowed) as refused:
        async with runtime.db.transaction() as session:
            await send_reply(
                session, conversation_id=conversation_id, author=BOT, text="Posso ajudar?", blobs=runtime.blobs
            )
    assert refused.value.code == "reply_window_closed"
    await asyncio.sleep(0.3)  # a few worker polls: nothing may go out
    assert sandbox.calls[calls_before:] == []
    await sandbox.drain(WAIT)
    messages = await stack.messages(conversation_id)
    assert [(m["direction"], m["author_kind"]) for m in messages] == [
        ("inbound", "contact"),
        ("outbound", "operator"),
        ("outbound", "operator"),
    ]


# ---------------------------------------------------------------- Instagram


async def test_instagram_round_trip(stack: Stack) -> None:
    sandbox = stack.sandbox
    await sandbox.customer_says(ASSETS.instagram_id, IGSID, "Vi o vosso anúncio, têm em azul? 💙", name="Bia")
    conversation = await stack.only_conversation("instagram")
    conversation_id = conversation["id"]
    (inbound,) = await stack.messages(conversation_id)
    assert inbound["text"] == "Vi o vosso anúncio, têm em azul? 💙"

    reply = await stack.reply(conversation_id, {"text": "Temos sim! 💙"})
    assert reply.status_code == 201, reply.text
    (call,) = await stack.graph_send(ASSETS.instagram_id)
    assert call.status == 200, call.response
    assert call.token == ASSETS.instagram_token
    assert call.json is not None
    assert call.json["recipient"] == {"id": IGSID}
    assert call.json["message"] == {"text": "Temos sim! 💙"}
    assert "tag" not in call.json
    final = await stack.wait_state(conversation_id, reply.json()["id"], "read")
    assert final["provider_message_id"] == call.response["message_id"]
    await sandbox.drain(WAIT)
    assert len(await stack.messages(conversation_id)) == 2  # the echo did not add a message
