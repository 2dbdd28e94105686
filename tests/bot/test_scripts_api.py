"""Scripts and articles administration: CRUD, versions kept by running conversations, import/export,
and the end action: a signed POST of the answers, retried from the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from helpline.app import create_app
from helpline.bot.engine import Engine
from helpline.bot.pipeline import BotFrontLine, install_front_line
from helpline.platform.crypto import verify_sha256_signature
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.bot.conftest import CLAIM, ORDER, TODAY, Chat, KeywordMatcher, create_script
from tests.conftest import World, drain, make_settings, make_world
from tests.conversations.conftest import add_api_channel


async def test_crud_versions_and_permissions(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.post("/api/v1/scripts", json=ORDER, headers=world.agent.headers)).status_code == 403
    created = await create_script(client, world, ORDER)
    assert created["current_version"] == 1 and created["end_action_secret"] is None
    assert (await client.post("/api/v1/scripts", json=ORDER, headers=world.admin.headers)).status_code == 409

    changed = {**ORDER, "closing_message": "On its way!"}
    updated = await client.put(f"/api/v1/scripts/{created['id']}", json=changed, headers=world.admin.headers)
    assert updated.json()["current_version"] == 2
    same = await client.put(f"/api/v1/scripts/{created['id']}", json=changed, headers=world.admin.headers)
    assert same.json()["current_version"] == 2  # no change, no version
    versions = await client.get(f"/api/v1/scripts/{created['id']}/versions", headers=world.supervisor.headers)
    assert [v["version"] for v in versions.json()] == [2, 1]
    bad = {**ORDER, "key": "order", "steps": [{"key": "x", "question": "?", "type": "choice", "choices": ["a"]}]}
    assert (
        await client.put(f"/api/v1/scripts/{created['id']}", json=bad, headers=world.admin.headers)
    ).status_code == 422
    assert (await client.delete(f"/api/v1/scripts/{created['id']}", headers=world.admin.headers)).status_code == 204
    assert (await client.get("/api/v1/scripts", headers=world.supervisor.headers)).json() == []


async def test_import_export_round_trip(client: httpx.AsyncClient, world: World) -> None:
    document = yaml.safe_dump({"scripts": [CLAIM, ORDER]}, allow_unicode=True)
    report = await client.post("/api/v1/scripts/import", content=document, headers=world.admin.headers)
    assert report.json()["created"] == ["claim", "order"]
    again = await client.post("/api/v1/scripts/import", content=json.dumps([CLAIM]), headers=world.admin.headers)
    assert again.json()["unchanged"] == ["claim"]
    exported = await client.get("/api/v1/scripts/export", params={"format": "json"}, headers=world.admin.headers)
    assert [s["key"] for s in exported.json()["scripts"]] == ["claim", "order"]
    broken = await client.post("/api/v1/scripts/import", content="- key: Bad Key\n", headers=world.admin.headers)
    assert broken.status_code == 422 and "script #1" in broken.json()["error"]["message"]


async def test_running_conversation_keeps_its_version(
    chat: Chat, client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    await chat("where is my order")
    changed = {**ORDER, "closing_message": "Version two says hi."}
    await client.put(f"/api/v1/scripts/{scripts['order']['id']}", json=changed, headers=world.admin.headers)
    assert await chat("12345") == ["Your order is on its way."]  # finished on version 1
    chat.contact_id = "second-customer"
    await chat("where is my order")  # the edit is trained before this message is matched
    assert await chat("777") == ["Version two says hi."]


async def test_an_imported_script_is_used_from_the_next_message_in_every_process(
    chat: Chat, client: httpx.AsyncClient, world: World, runtime: Runtime, scripts: dict[str, Any]
) -> None:
    # Another worker process holds its own models: it learns of the import from the database, not from this one.
    other = Engine(runtime.db, KeywordMatcher)
    assert "refund" not in (await other.current()).scripts
    assert await chat("I want my money back for the broken kettle") != ["Refunds take five days."]
    refund = {
        "key": "refund",
        "name": "Refund",
        "examples": ["I want my money back", "refund my purchase"],
        "steps": [],
        "closing_message": "Refunds take five days.",
    }
    report = await client.post("/api/v1/scripts/import", content=json.dumps([refund]), headers=world.admin.headers)
    assert report.json()["created"] == ["refund"]
    chat.contact_id, chat._seen = "next-customer", 0  # a new conversation: count its replies from the first
    assert await chat("I want my money back for the broken kettle") == ["Refunds take five days."]
    assert (await other.current()).scripts["refund"].version == 1
    edited = {**refund, "closing_message": "Refunds take three days."}
    listed = (await client.get("/api/v1/scripts", headers=world.admin.headers)).json()
    refund_id = next(s["id"] for s in listed if s["key"] == "refund")
    await client.put(f"/api/v1/scripts/{refund_id}", json=edited, headers=world.admin.headers)
    assert (await other.current()).scripts["refund"].version == 2


async def test_operator_chooses_a_script(
    chat: Chat, client: httpx.AsyncClient, world: World, scripts: dict[str, Any]
) -> None:
    await chat("I want to speak to a human")  # escalated: the bot is paused
    response = await client.post(
        f"/api/v1/conversations/{chat.conversation_id}/bot/script",
        json={"script_id": scripts["order"]["id"]},
        headers=world.agent.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["script"]["key"] == "order" and response.json()["handler"] == "bot"
    assert [m.text for m in await chat.new_replies()] == [
        "I can help you with Order status.\nWhat is your order number?"
    ]
    assert await chat("12345") == ["Your order is on its way."]


async def test_articles_crud_and_import(client: httpx.AsyncClient, world: World) -> None:
    body = {"title": "Refunds", "answer": "Refunds take 5 days.", "tags": ["Money"], "language": "en"}
    created = (await client.post("/api/v1/articles", json=body, headers=world.admin.headers)).json()
    assert created["tags"] == ["money"]
    patched = await client.patch(
        f"/api/v1/articles/{created['id']}", json={"answer": "Refunds take 3 days."}, headers=world.admin.headers
    )
    assert patched.json()["answer"] == "Refunds take 3 days."
    document = yaml.safe_dump({"articles": [body, {**body, "title": "Horário", "language": "pt"}]})
    report = await client.post("/api/v1/articles/import", content=document, headers=world.admin.headers)
    assert report.json() == {"created": 1, "updated": 1}
    assert len((await client.get("/api/v1/articles", headers=world.agent.headers)).json()) == 2


# ---------------------------------------------------------------- end action


@pytest.fixture
async def receiver_app(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[FastAPI, list[httpx.Request]]]:
    """The app with an HTTP client whose transport plays the end-action receiver: 503 once, then 200."""
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(503 if len(received) == 1 else 200)

    settings: Settings = make_settings(tmp_path, db_url)
    application = create_app(settings, migrate=False, http=httpx.AsyncClient(transport=httpx.MockTransport(handle)))
    async with application.router.lifespan_context(application):
        yield application, received


async def test_end_action_is_signed_and_retried(receiver_app: tuple[FastAPI, list[httpx.Request]]) -> None:
    application, received = receiver_app
    runtime: Runtime = application.state.runtime
    install_front_line(runtime, BotFrontLine(runtime, matcher_factory=KeywordMatcher, today=TODAY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as c:
        world = await make_world(runtime, c)
        script = await create_script(c, world, {**ORDER, "end_action": {"url": "http://crm.example/hooks/orders"}})
        secret = script["end_action_secret"]
        assert secret
        line = await add_api_channel(c, world.admin, name="Bot line", member_ids=[world.agent.id], bot=True)
        chat = Chat(c, runtime, line)
        await chat("where is my order")
        await chat("12345")
        for _ in range(50):
            await drain(runtime)
            if len(received) >= 2:
                break
            await asyncio.sleep(0.05)
    assert len(received) == 2
    first, second = received
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    body = second.content
    assert verify_sha256_signature(secret, body, second.headers["X-Helpline-Signature"])
    payload = json.loads(body)
    assert payload["answers"] == {"order_no": 12345} and payload["script"]["key"] == "order"


@pytest.fixture
async def refusing_app(tmp_path: Path, db_url: str) -> AsyncIterator[tuple[FastAPI, list[httpx.Request]]]:
    """The app with an end-action receiver that refuses the answers (422: a permanent failure)."""
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(422)

    settings: Settings = make_settings(tmp_path, db_url)
    application = create_app(settings, migrate=False, http=httpx.AsyncClient(transport=httpx.MockTransport(handle)))
    async with application.router.lifespan_context(application):
        yield application, received


async def test_a_failed_end_action_is_visible_and_goes_to_a_person(
    refusing_app: tuple[FastAPI, list[httpx.Request]],
) -> None:
    application, received = refusing_app
    runtime: Runtime = application.state.runtime
    install_front_line(runtime, BotFrontLine(runtime, matcher_factory=KeywordMatcher, today=TODAY))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as c:
        world = await make_world(runtime, c)
        await create_script(c, world, {**ORDER, "end_action": {"url": "http://crm.example/hooks/orders"}})
        line = await add_api_channel(c, world.admin, name="Bot line", member_ids=[world.agent.id], bot=True)
        chat = Chat(c, runtime, line)
        await chat("where is my order")
        assert await chat("12345") == ["Your order is on its way."]
        for _ in range(50):
            await drain(runtime)
            if received:
                break
            await asyncio.sleep(0.05)
        await drain(runtime)
        bot = (await c.get(f"/api/v1/conversations/{chat.conversation_id}/bot", headers=world.agent.headers)).json()
    assert len(received) == 1 and json.loads(received[0].content)["run_id"] == bot["runs"][0]["id"]
    assert bot["handler"] == "human" and bot["escalation"]["reason"] == "end_action_failed"
    assert bot["escalation"]["detail"] == "HTTP 422"
    assert bot["escalation"]["fields"] == [
        {"key": "order_no", "question": "What is your order number?", "value": 12345}
    ]
    assert (bot["runs"][0]["status"], bot["runs"][0]["end"], bot["runs"][0]["end_status"]) == (
        "completed",
        "webhook",
        "failed",
    )


async def test_a_closing_message_may_only_promise_what_the_end_does(client: httpx.AsyncClient, world: World) -> None:
    promising = {**ORDER, "key": "promise", "closing_message": "Thanks, our team will call you tomorrow."}
    refused = await client.post("/api/v1/scripts", json=promising, headers=world.admin.headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "closing_promise"
    assert "our team" in refused.json()["error"]["message"]
    pt = {**promising, "closing_message": "Pronto, seu pedido foi registrado."}
    assert (await client.post("/api/v1/scripts", json=pt, headers=world.admin.headers)).status_code == 422
    # The same words are fine when the script does follow up: a case for a person.
    assert (
        await client.post("/api/v1/scripts", json={**promising, "end": "case"}, headers=world.admin.headers)
    ).status_code == 201
    no_url = {**ORDER, "key": "hook", "end": "webhook"}
    assert (await client.post("/api/v1/scripts", json=no_url, headers=world.admin.headers)).status_code == 422
