"""API-wide request rules: bounded integers everywhere, unknown query parameters refused, no 5xx on odd input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from helpline.platform.api_contract import JSON_SAFE_MAX, parse_int
from tests.conftest import World

HUGE = 2**70


def _integer_schemas(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "integer":
            found.append((where, node))
        for key, value in node.items():
            found.extend(_integer_schemas(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_integer_schemas(value, f"{where}/{index}"))
    return found


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


async def test_every_request_integer_in_the_openapi_document_is_bounded(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    requests = {
        f"{method.upper()} {path}": {k: v for k, v in op.items() if k in ("parameters", "requestBody")}
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    }
    components = document["components"]["schemas"]
    used, todo = set(), _refs(requests)
    while todo:  # the request models and every model they contain
        name = todo.pop()
        used.add(name)
        todo |= _refs(components[name]) - used
    integers = _integer_schemas({"paths": requests, "schemas": {k: components[k] for k in used}})
    assert len(integers) > 30
    unbounded = [where for where, schema in integers if schema.get("maximum", HUGE) > JSON_SAFE_MAX]
    assert unbounded == []


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/contacts/{HUGE}",
        f"/api/v1/conversations/{HUGE}",
        f"/api/v1/conversations/-{HUGE}/messages",
        f"/api/v1/channels/{HUGE}",
        f"/api/v1/attachments/{HUGE}/content",
        f"/api/v1/audit?before_id={HUGE}",
        f"/api/v1/events?profile_id=-{HUGE}",
        "/api/v1/contacts?cursor=%C2%B2",
        "/api/v1/conversations/1/messages?cursor=%C2%B2",
        "/api/v1/conversations?assignee=%C2%B2",
        "/api/v1/conversations?assignee=99999999999999999999999",
        "/api/v1/conversations?limit=%C2%B2",
    ],
)
async def test_ids_beyond_64_bits_and_unicode_digits_are_422(
    client: httpx.AsyncClient, world: World, path: str
) -> None:
    response = await client.get(path, headers=world.admin.headers)
    assert response.status_code in (404, 422), response.text
    assert "error" in response.json()


async def test_ids_beyond_64_bits_in_bodies_are_422(client: httpx.AsyncClient, world: World) -> None:
    headers = world.admin.headers
    for method, path, body in (
        ("PATCH", "/api/v1/conversations/1", {"event_id": HUGE}),
        ("POST", "/api/v1/channels", {"kind": "api", "name": "x", "member_ids": [HUGE]}),
        ("POST", "/api/v1/contacts/1/merge", {"merge_contact_id": -HUGE}),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.text)


@pytest.mark.parametrize("path", ["/webhooks/meta", "/api/v1/auth/login"])
async def test_a_content_length_of_unicode_digits_is_no_500(app: FastAPI, path: str) -> None:
    """`"²".isdigit()` is true and `int("²")` fails: the size checks must not trust isdigit()."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", "²".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] < 500


async def test_contact_attributes_null_clears_them(client: httpx.AsyncClient, world: World) -> None:
    from tests.support import post_inbound

    await post_inbound(client, world.channel_id, world.channel_secret, text="hi")
    contacts = (await client.get("/api/v1/contacts", headers=world.admin.headers)).json()["items"]
    response = await client.patch(
        f"/api/v1/contacts/{contacts[0]['id']}", json={"attributes": None}, headers=world.admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {}


@pytest.mark.parametrize(
    ("path", "unknown"),
    [
        ("/api/v1/conversations?label=vip", ["label"]),
        ("/api/v1/contacts?limit=5&colour=red&size=9", ["colour", "size"]),
        ("/api/v1/audit?nope=1", ["nope"]),
    ],
)
async def test_unknown_query_parameters_are_named_in_a_422(
    client: httpx.AsyncClient, world: World, path: str, unknown: list[str]
) -> None:
    response = await client.get(path, headers=world.admin.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unknown_query_parameter"
    assert error["details"]["unknown"] == unknown
    for name in unknown:
        assert repr(name) in error["message"]


async def test_declared_query_parameters_still_work(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/api/v1/conversations?status=open&limit=5", headers=world.admin.headers)
    assert response.status_code == 200, response.text


def test_parse_int_takes_only_ascii_digits_in_range() -> None:
    assert parse_int("42") == 42
    assert [parse_int(t) for t in ("²", "٣", "", "-1", "1e3", str(JSON_SAFE_MAX + 1), " 1")] == [None] * 7


async def test_null_for_a_required_operator_field_is_422(client: httpx.AsyncClient, world: World) -> None:
    """Found by the fuzz run: `{"active": null}` reached the response model and failed there with a 500."""
    response = await client.patch(
        f"/api/v1/operators/{world.agent.id}", json={"active": None, "name": "x"}, headers=world.admin.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "null_not_allowed"


async def test_the_bot_console_returns_a_state_it_accepts_again(client: httpx.AsyncClient, world: World) -> None:
    """Found by the fuzz run: a state sent back at the low-confidence bound came back past it, a 500."""
    state = {"mode": "idle", "answers": {}, "attempts": 0, "lang": "", "low_confidence": 1000, "step": 0}
    body = {"message": "0", "language": "aa", "state": state}
    response = await client.post("/api/v1/bot/try", json=body, headers=world.admin.headers)
    assert response.status_code == 200, response.text
    again = await client.post(
        "/api/v1/bot/try", json={**body, "state": response.json()["state"]}, headers=world.admin.headers
    )
    assert again.status_code == 200, again.text
