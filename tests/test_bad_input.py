"""Bad input gets a clear 4xx in the {"error": {code, message}} shape, and nothing is stored."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError

from helpline.app import create_app
from helpline.attachments.models import Attachment
from helpline.audit.models import AuditEntry
from helpline.conversations.models import Conversation, Message
from helpline.platform.outbox import OutboxRow
from helpline.runtime import Runtime
from tests.conftest import World, make_settings, make_world
from tests.support import post_inbound, signed_inbound

SMALL_ATTACHMENT = 1024
SMALL_REQUEST = 16 * 1024


@pytest.fixture
async def small_app(tmp_path: Path, db_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(tmp_path, db_url, max_attachment_bytes=SMALL_ATTACHMENT, max_request_bytes=SMALL_REQUEST)
    application = create_app(settings, migrate=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def small(small_app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, World]]:
    """A client, runtime and personas of an app with tiny attachment and request limits."""
    transport = httpx.ASGITransport(app=small_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        runtime: Runtime = small_app.state.runtime
        yield c, runtime, await make_world(runtime, c)


async def snapshot(runtime: Runtime) -> dict[str, int]:
    async with runtime.db.sessions() as session:
        return {
            model.__tablename__: int((await session.execute(select(func.count()).select_from(model))).scalar_one())
            for model in (Conversation, Message, Attachment, OutboxRow, AuditEntry)
        }


def blob_files(runtime: Runtime) -> list[Path]:
    root = runtime.settings.attachments_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error


async def start_conversation(client: httpx.AsyncClient, world: World, runtime: Runtime) -> int:
    response = await post_inbound(client, world.channel_id, world.channel_secret)
    assert response.status_code == 200, response.text
    async with runtime.db.sessions() as session:
        message = await session.get(Message, response.json()["message_ids"][0])
        assert message is not None
        return message.conversation_id


@pytest.fixture
async def conversation_id(client: httpx.AsyncClient, world: World, runtime: Runtime) -> int:
    return await start_conversation(client, world, runtime)


JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------- malformed, missing, wrong types


async def test_malformed_json_is_422_and_stores_nothing(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    base = f"/api/v1/conversations/{conversation_id}"
    before = await snapshot(runtime)
    headers = {**world.agent.headers, **JSON}
    for method, url in (
        ("POST", f"{base}/messages"),
        ("POST", f"{base}/assign"),
        ("POST", f"{base}/snooze"),
        ("PATCH", base),
    ):
        for body in (b'{"text": "unterminated', b"not json at all", b"\xff\xfe"):
            response = await client.request(method, url, content=body, headers=headers)
            assert_error(response, 422, "invalid_json")
    login = await client.post("/api/v1/auth/login", content=b"{email:", headers=JSON)
    assert_error(login, 422, "invalid_json")
    assert await snapshot(runtime) == before


async def test_missing_fields_are_422(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    base = f"/api/v1/conversations/{conversation_id}"
    before = await snapshot(runtime)
    cases: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (f"{base}/assign", {}, world.agent.headers),
        (f"{base}/snooze", {}, world.agent.headers),
        ("/api/v1/auth/login", {"email": "agent@example.com"}, {}),
        ("/api/v1/operators", {"email": "x@example.com", "name": "X"}, world.admin.headers),
        ("/api/v1/channels", {"name": "no kind"}, world.admin.headers),
        ("/api/v1/events", {"description": "no name"}, world.admin.headers),
    ]
    for url, body, headers in cases:
        response = await client.post(url, json=body, headers=headers)
        assert_error(response, 422, "invalid")
        assert response.json()["error"]["details"]["errors"], url
    assert await snapshot(runtime) == before


async def test_wrong_types_are_422(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    base = f"/api/v1/conversations/{conversation_id}"
    before = await snapshot(runtime)
    headers = world.agent.headers
    cases: list[tuple[str, str, Any]] = [
        ("POST", f"{base}/messages", {"text": 5}),
        ("POST", f"{base}/messages", {"text": "ok", "reply_to_id": "first"}),
        ("POST", f"{base}/messages", ["a list"]),
        ("POST", f"{base}/assign", {"operator_id": "Ana"}),
        ("POST", f"{base}/snooze", {"until": "tomorrow-ish"}),
        ("PATCH", base, {"priority": "super-urgent"}),
        ("PATCH", base, {"tags": "vip"}),
        ("PATCH", base, {"event_id": {"id": 1}}),
    ]
    for method, url, body in cases:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 422, (method, url, body, response.text)
        assert_error(response, 422)
    for params in ({"limit": 0}, {"limit": "ten"}, {"limit": 5000}, {"status": "closed"}, {"channel_id": "x"}):
        assert_error(await client.get("/api/v1/conversations", params=params, headers=headers), 422, "invalid")
    assert_error(await client.get("/api/v1/conversations/abc", headers=headers), 422, "invalid")
    detail = (await client.get(base, headers=world.admin.headers)).json()
    assert (detail["priority"], detail["tags"], detail["event"], detail["status"]) == ("none", [], None, "open")
    assert await snapshot(runtime) == before


async def test_a_form_reply_with_a_bad_reply_to_id_is_422(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    before = await snapshot(runtime)
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data={"text": "hi", "reply_to_id": "not-a-number"},
        files=[("files", ("a.txt", b"abc", "text/plain"))],
        headers=world.agent.headers,
    )
    assert_error(response, 422)
    assert await snapshot(runtime) == before
    assert blob_files(runtime) == []


async def test_reply_to_a_message_of_another_conversation_is_422(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    other = await post_inbound(client, world.channel_id, world.channel_secret, contact_id="c-2", message_id="m-2")
    foreign_message = other.json()["message_ids"][0]
    before = await snapshot(runtime)
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "hi", "reply_to_id": foreign_message},
        headers=world.agent.headers,
    )
    assert_error(response, 422)
    assert await snapshot(runtime) == before


# ---------------------------------------------------------------- unknown ids


async def test_unknown_ids_are_clear_errors_and_store_nothing(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    missing = 987654
    base = f"/api/v1/conversations/{conversation_id}"
    before = await snapshot(runtime)
    admin = world.admin.headers
    not_found = [
        ("GET", f"/api/v1/conversations/{missing}", None),
        ("GET", f"/api/v1/conversations/{missing}/messages", None),
        ("POST", f"/api/v1/conversations/{missing}/messages", {"text": "hello?"}),
        ("POST", f"/api/v1/conversations/{missing}/takeover", None),
        ("POST", f"/api/v1/conversations/{missing}/resolve", None),
        ("PATCH", f"/api/v1/conversations/{missing}", {"priority": "high"}),
        ("GET", f"/api/v1/operators/{missing}", None),
        ("PATCH", f"/api/v1/operators/{missing}", {"name": "Ghost"}),
        ("GET", f"/api/v1/channels/{missing}", None),
        ("PATCH", f"/api/v1/channels/{missing}", {"name": "Ghost"}),
        ("GET", f"/api/v1/events/{missing}", None),
        ("GET", f"/api/v1/profiles/{missing}", None),
        ("GET", f"/api/v1/attachments/{missing}/content", None),
        ("POST", f"/api/v1/outbox/{missing}/retry", None),
    ]
    for method, url, body in not_found:
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code == 404, (method, url, response.text)
        assert_error(response, 404, "not_found")

    unknown_operator = await client.post(f"{base}/assign", json={"operator_id": missing}, headers=admin)
    assert_error(unknown_operator, 422, "unknown_operator")
    unknown_event = await client.patch(base, json={"event_id": missing}, headers=admin)
    assert_error(unknown_event, 422, "unknown_event")
    unknown_channel = await client.post(
        "/api/v1/operators",
        json={"email": "n@example.com", "name": "N", "password": "long enough password", "channel_ids": [missing]},
        headers=admin,
    )
    assert_error(unknown_channel, 422)
    body, headers = signed_inbound(world.channel_secret, {"contact": {"id": "x"}, "message": {"id": "y", "text": "z"}})
    inbound = await client.post(f"/api/v1/channels/{missing}/inbound", content=body, headers=headers)
    assert_error(inbound, 404, "not_found")

    assert await snapshot(runtime) == before
    detail = (await client.get(base, headers=admin)).json()
    assert (detail["assignee"], detail["event"]) == (None, None)
    assert (await client.get(f"/api/v1/operators/{missing}", headers=admin)).status_code == 404


# ---------------------------------------------------------------- sizes and types


async def test_oversize_attachment_is_413_and_nothing_is_stored(
    small: tuple[httpx.AsyncClient, Runtime, World],
) -> None:
    client, runtime, world = small
    conversation_id = await start_conversation(client, world, runtime)
    before = await snapshot(runtime)
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data={"text": "see attached"},
        files=[
            ("files", ("small.txt", b"fits", "text/plain")),
            ("files", ("big.pdf", b"x" * (SMALL_ATTACHMENT + 1), "application/pdf")),
        ],
        headers=world.agent.headers,
    )
    assert_error(response, 413, "too_large")
    assert await snapshot(runtime) == before
    assert blob_files(runtime) == []
    exactly = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        files=[("files", ("ok.pdf", b"%PDF-1.4\n" + b"x" * (SMALL_ATTACHMENT - 9), "application/pdf"))],
        headers=world.agent.headers,
    )
    assert exactly.status_code == 201, exactly.text


async def test_request_body_over_the_limit_is_413_and_nothing_is_stored(
    small: tuple[httpx.AsyncClient, Runtime, World],
) -> None:
    client, runtime, world = small
    conversation_id = await start_conversation(client, world, runtime)
    before = await snapshot(runtime)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    too_big = {"text": "a" * (SMALL_REQUEST + 10)}

    declared = await client.post(url, json=too_big, headers=world.agent.headers)
    assert_error(declared, 413, "too_large")
    inbound = await post_inbound(
        client, world.channel_id, world.channel_secret, message_id="big", text="b" * SMALL_REQUEST
    )
    assert_error(inbound, 413, "too_large")
    assert await snapshot(runtime) == before


async def test_streamed_body_over_the_limit_is_413_on_every_kind_of_route(
    small: tuple[httpx.AsyncClient, Runtime, World],
) -> None:
    """Without a Content-Length the limit is enforced while reading, also where FastAPI parses the body."""
    client, runtime, world = small
    conversation_id = await start_conversation(client, world, runtime)
    before = await snapshot(runtime)
    base = f"/api/v1/conversations/{conversation_id}"

    async def chunks(body: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    padding = " " * (SMALL_REQUEST + 10)
    for method, url in (("POST", f"{base}/messages"), ("PATCH", base), ("POST", f"{base}/assign")):
        body = ('{"text": "hi", "priority": "high", "operator_id": null}' + padding).encode()
        response = await client.request(method, url, content=chunks(body), headers={**world.agent.headers, **JSON})
        assert "content-length" not in response.request.headers
        assert_error(response, 413, "too_large")
    assert await snapshot(runtime) == before
    assert (await client.get(base, headers=world.agent.headers)).json()["priority"] == "none"


async def test_disallowed_attachment_type_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    before = await snapshot(runtime)
    for filename, kind in (("page.html", "text/html"), ("run.exe", "application/x-msdownload")):
        response = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            data={"text": "look"},
            files=[("files", ("fine.png", b"\x89PNG....", "image/png")), ("files", (filename, b"<x>", kind))],
            headers=world.agent.headers,
        )
        assert_error(response, 422, "attachment_type")
    assert await snapshot(runtime) == before
    assert blob_files(runtime) == []


# ---------------------------------------------------------------- cursors


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_malformed_cursors_are_422_bad_cursor(
    client: httpx.AsyncClient, world: World, runtime: Runtime, conversation_id: int
) -> None:
    headers = world.agent.headers
    for cursor in (
        "!!!",
        "not-a-cursor",
        b64("hello"),
        b64("2026-01-01T00:00:00+00:00|x"),
        b64("2026-13-45T00:00:00+00:00|5"),
        # Well formed but without a time zone: must not reach the database as a naive time.
        b64("2026-01-01T00:00:00|5"),
    ):
        response = await client.get("/api/v1/conversations", params={"cursor": cursor}, headers=headers)
        assert_error(response, 422, "bad_cursor")
    for cursor in ("abc", "-1", "1.5", "%%"):
        response = await client.get(
            f"/api/v1/conversations/{conversation_id}/messages", params={"cursor": cursor}, headers=headers
        )
        assert_error(response, 422, "bad_cursor")
    good = await client.get(
        "/api/v1/conversations", params={"cursor": b64("2999-01-01T00:00:00+00:00|9")}, headers=headers
    )
    assert [c["id"] for c in good.json()["items"]] == [conversation_id]


async def test_database_errors_answer_4xx_and_keep_stored_values_out_of_the_log(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    detail = "DETAIL:  Key (email)=(ana.secret@example.com) already exists."
    duplicate = Exception(f'duplicate key value violates unique constraint "contacts_email_key"\n{detail}')
    out_of_range = Exception("invalid input for query argument $1: 4111111111111111111111 (value out of int64 range)")

    async def conflict() -> None:
        raise IntegrityError("INSERT …", {}, duplicate)

    async def too_big() -> None:
        raise DataError("SELECT …", {}, out_of_range)

    app.add_api_route("/test-only/conflict", conflict, include_in_schema=False)
    app.add_api_route("/test-only/too-big", too_big, include_in_schema=False)
    with caplog.at_level(logging.WARNING, logger="helpline"):
        assert (await client.get("/test-only/conflict")).status_code == 409
        assert (await client.get("/test-only/too-big")).status_code == 422
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "contacts_email_key" in logged and "answered 422" in logged
    assert "ana.secret@example.com" not in logged and "4111111111111111111111" not in logged


async def test_a_validation_error_lists_each_problem_machine_readable_without_echoing_the_input(
    client: httpx.AsyncClient, world: World
) -> None:
    """`details.problems`: field, pydantic's error type and its limits — what a client needs to say it in its own
    language — and never the value sent (it may be a password)."""
    secret = "x" * 3
    response = await client.post(
        "/api/v1/operators",
        json={"email": "new@example.com", "name": "", "password": secret, "role": "boss"},
        headers=world.admin.headers,
    )
    assert_error(response, 422, "invalid")
    details = response.json()["error"]["details"]
    assert len(details["errors"]) == len(details["problems"]) >= 2
    by_field = {p["field"]: p for p in details["problems"]}
    assert by_field["role"]["type"] in {"literal_error", "enum"} and "agent" in by_field["role"]["ctx"]["expected"]
    assert all(set(p) == {"field", "type", "ctx", "message"} for p in details["problems"])
    assert all(isinstance(v, str | int | float | bool) for p in details["problems"] for v in p["ctx"].values())
    assert secret not in response.text
    missing = await client.post("/api/v1/events", json={"description": "no name"}, headers=world.admin.headers)
    assert {"field": "name", "type": "missing", "ctx": {}, "message": "Field required"} in missing.json()["error"][
        "details"
    ]["problems"]
