"""The visitor API over HTTP: sessions, messages, history, uploads, identity, origins and rate limits."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest
from sqlalchemy import select

from helpline.contacts.models import ContactIdentity
from helpline.conversations.models import Conversation
from helpline.runtime import Runtime
from tests.channels.widget.support import PNG, SHOP, Widget, history, make_widget, say, start
from tests.conftest import World, drain


@pytest.fixture
async def widget(runtime: Runtime, world: World) -> Widget:
    return await make_widget(runtime, [world.agent.id])


async def conversation_of(runtime: Runtime, widget_id: int) -> Conversation:
    async with runtime.db.reads() as session:
        rows = list((await session.execute(select(Conversation).where(Conversation.channel_id == widget_id))).scalars())
    assert len(rows) == 1
    return rows[0]


async def test_config_answers_allowed_origins_with_cors_and_refuses_others(
    client: httpx.AsyncClient, widget: Widget
) -> None:
    ok = await client.get(f"/api/v1/widget/{widget.id}/config", headers={"Origin": SHOP})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == SHOP
    assert ok.json()["title"] == "Chat with us"
    assert ok.json()["upload_types"] == ["application/pdf", "image/gif", "image/jpeg", "image/png", "image/webp"]
    refused = await client.get(f"/api/v1/widget/{widget.id}/config", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "bad_origin"
    assert "access-control-allow-origin" not in refused.headers


async def test_preflight_is_allowed_only_for_the_widgets_origins(client: httpx.AsyncClient, widget: Widget) -> None:
    path = f"/api/v1/widget/{widget.id}/sessions"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = await client.options(path, headers={"Origin": SHOP, **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == SHOP
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    bad = await client.options(path, headers={"Origin": "https://evil.example", **preflight})
    assert bad.status_code == 403
    assert "access-control-allow-origin" not in bad.headers
    # Starting a session from a foreign page is refused as well.
    response = await client.post(path, json={}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


async def test_visitor_writes_and_reads_the_operators_reply_in_history(
    client: httpx.AsyncClient, runtime: Runtime, world: World, widget: Widget
) -> None:
    visitor = await start(client, widget.id, name="Ana Souza", email="ana@example.com")
    assert visitor.verified is False
    sent = await say(client, visitor, "Hello, my order is late", "c1")
    assert sent["from"] == "visitor" and sent["text"] == "Hello, my order is late"
    # A retried POST with the same client id is the same message.
    again = await say(client, visitor, "Hello, my order is late", "c1")
    assert again["id"] == sent["id"]

    conversation = await conversation_of(runtime, widget.id)
    contact = await client.get(f"/api/v1/contacts/{conversation.contact_id}", headers=world.agent.headers)
    assert contact.json()["name"] == "Ana Souza" and contact.json()["email"] == "ana@example.com"
    reply = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": "Sorry! It ships **today**."},
        headers=world.agent.headers,
    )
    assert reply.status_code == 201, reply.text
    # Queued replies are not shown yet: the visitor sees a reply once it was handed to their session.
    assert [m["text"] for m in await history(client, visitor)] == ["Hello, my order is late"]
    await drain(runtime)
    messages = await history(client, visitor)
    assert [(m["from"], m["author"], m["text"], m["state"]) for m in messages] == [
        ("visitor", None, "Hello, my order is late", "received"),
        ("operator", "Agent", "Sorry! It ships **today**.", "sent"),
    ]
    stored = await client.get(f"/api/v1/conversations/{conversation.id}/messages", headers=world.agent.headers)
    outbound = [m for m in stored.json()["items"] if m["direction"] == "outbound"]
    assert outbound[0]["delivery_state"] == "sent"
    assert outbound[0]["provider_message_id"] == f"widget-{outbound[0]['id']}"


async def test_pre_chat_message_starts_the_conversation(
    client: httpx.AsyncClient, runtime: Runtime, widget: Widget
) -> None:
    visitor = await start(client, widget.id, name="Rui", message="Do you open on Sundays?")
    assert [m["text"] for m in await history(client, visitor)] == ["Do you open on Sundays?"]


async def test_another_sessions_token_gets_404_and_never_its_history(
    client: httpx.AsyncClient, runtime: Runtime, world: World, widget: Widget
) -> None:
    alice = await start(client, widget.id)
    bob = await start(client, widget.id)
    await say(client, alice, "my secret address is 1 Main St", "a1")
    # Bob's token on Alice's session path: 404, as for a session that does not exist.
    for method, body in (("GET", None), ("POST", {"text": "hi", "client_id": "x1"})):
        response = await client.request(
            method, f"{alice.path}/messages", json=body, headers={**bob.headers, "Origin": SHOP}
        )
        assert response.status_code == 404, response.text
        assert "1 Main St" not in response.text
    forged = alice.token[:-4] + ("0000" if not alice.token.endswith("0000") else "1111")
    for token in (forged, "", "not-a-token"):
        response = await client.get(f"{alice.path}/messages", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404
    # A token of another widget does not open this one.
    other = await make_widget(runtime, [world.agent.id])
    response = await client.get(
        f"/api/v1/widget/{other.id}/sessions/{alice.session_id}/messages", headers=alice.headers
    )
    assert response.status_code == 404
    assert await history(client, bob) == []


async def test_session_routes_accept_only_the_sessions_own_visitor_token(
    client: httpx.AsyncClient, world: World, widget: Widget
) -> None:
    alice = await start(client, widget.id)
    await say(client, alice, "my secret address is 1 Main St", "a1")
    # An operator's session is not a visitor's: it opens no session route of the visitor API.
    for headers in ({"Origin": SHOP}, {**world.admin.headers, "Origin": SHOP}):
        for method, suffix, body in (
            ("GET", "/messages", None),
            ("POST", "/messages", {"text": "hi", "client_id": "x2"}),
        ):
            response = await client.request(method, f"{alice.path}{suffix}", json=body, headers=headers)
            assert response.status_code == 404, (method, suffix, response.status_code)
            assert "1 Main St" not in response.text
        upload = await client.post(
            f"{alice.path}/attachments",
            data={"client_id": "f1"},
            files={"file": ("a.png", PNG, "image/png")},
            headers=headers,
        )
        assert upload.status_code == 404, upload.text


def user_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


async def test_verified_identity_follows_the_user_and_forged_hashes_get_nothing(
    client: httpx.AsyncClient, runtime: Runtime, widget: Widget
) -> None:
    laptop = await start(client, widget.id, user_id="user-42", user_hash=user_hash(widget.identity_secret, "user-42"))
    assert laptop.verified is True
    await say(client, laptop, "I wrote this on my laptop", "l1")
    phone = await start(client, widget.id, user_id="user-42", user_hash=user_hash(widget.identity_secret, "user-42"))
    assert phone.session_id != laptop.session_id
    assert [m["text"] for m in await history(client, phone)] == ["I wrote this on my laptop"]

    forger = await start(client, widget.id, user_id="user-42", user_hash=user_hash("guessed-secret-0000", "user-42"))
    assert forger.verified is False
    assert await history(client, forger) == []
    await say(client, forger, "I am user 42, honest", "f1")
    assert [m["text"] for m in await history(client, forger)] == ["I am user 42, honest"]
    assert "I am user 42, honest" not in [m["text"] for m in await history(client, phone)]
    no_hash = await start(client, widget.id, user_id="user-42")
    assert no_hash.verified is False and await history(client, no_hash) == []
    async with runtime.db.reads() as session:
        ids = sorted((await session.execute(select(ContactIdentity.provider_id))).scalars())
    assert ids.count("u:user-42") == 1
    assert ids == sorted(["u:user-42", f"v:{forger.session_id}"])


async def test_flood_gets_429_with_retry_after_per_session_and_per_address(
    client: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    widget = await make_widget(runtime, [world.agent.id], session_rate="3/minute", address_rate="8/minute")
    visitor = await start(client, widget.id)
    for i in range(3):
        await say(client, visitor, f"message {i}", f"m{i}")
    flood = await client.post(
        f"{visitor.path}/messages", json={"text": "one more", "client_id": "m9"}, headers=visitor.headers
    )
    assert flood.status_code == 429
    assert int(flood.headers["retry-after"]) >= 1
    assert flood.headers["access-control-allow-origin"] == SHOP  # the widget can read the wait
    assert flood.json()["error"]["code"] == "too_many_requests"
    # The same address with fresh sessions runs into the per-address window of 8: the start and 3 messages
    # used 4 (the refused message stopped at the session's window, before counting for the address).
    statuses = []
    for _ in range(6):
        response = await client.post(f"/api/v1/widget/{widget.id}/sessions", json={}, headers={"Origin": SHOP})
        statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 201, 429, 429]


async def test_limits_on_text_and_files(client: httpx.AsyncClient, runtime: Runtime, world: World) -> None:
    widget = await make_widget(runtime, [world.agent.id], max_message_chars=20, max_upload_bytes=2048)
    visitor = await start(client, widget.id)
    long = await client.post(
        f"{visitor.path}/messages", json={"text": "x" * 21, "client_id": "t1"}, headers=visitor.headers
    )
    assert long.status_code == 422 and long.json()["error"]["code"] == "text_too_long"

    async def upload(name: str, data: bytes, content_type: str) -> httpx.Response:
        return await client.post(
            f"{visitor.path}/attachments",
            files={"file": (name, data, content_type)},
            data={"client_id": name.replace(".", "-"), "text": "see this"},
            headers=visitor.headers,
        )

    ok = await upload("photo.png", PNG, "image/png")
    assert ok.status_code == 201, ok.text
    attachment = ok.json()["message"]["attachments"][0]
    assert attachment["filename"] == "photo.png" and attachment["content_type"] == "image/png"
    download = await client.get(attachment["url"].removeprefix("http://testserver"))
    assert download.status_code == 200 and download.content == PNG

    html_as_png = await upload("evil.png", b"<html><script>alert(1)</script></html>", "image/png")
    assert html_as_png.status_code == 422
    assert html_as_png.json()["error"]["code"] == "attachment_type_mismatch"
    html = await upload("page.html", b"<html></html>", "text/html")
    assert html.status_code == 422 and html.json()["error"]["code"] == "attachment_type"
    big = await upload("big.png", PNG + b"\x00" * 4096, "image/png")
    assert big.status_code == 413
    assert [m["text"] for m in await history(client, visitor)] == ["see this"]


async def test_unknown_or_other_kind_of_channel_is_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(f"/api/v1/widget/{world.channel_id}/config", headers={"Origin": SHOP})
    assert response.status_code == 404
    response = await client.post("/api/v1/widget/999999/sessions", json={}, headers={"Origin": SHOP})
    assert response.status_code == 404
