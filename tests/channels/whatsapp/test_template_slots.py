"""The template picker's API: slots as objects with a preview, and parameters checked per slot before sending."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from helpline.engagement.models import MessageTemplate
from helpline.runtime import Runtime
from tests.channels.whatsapp.test_window_templates import closed_window, reply
from tests.conftest import drain
from tests.platform.fake_peer import Peer

VISIT: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "LOCATION"},
    {
        "type": "BODY",
        "text": "Olá {{nome}}, sua visita é {{dia}}.",
        "example": {"body_text_named_params": [
            {"param_name": "nome", "example": "Ana"}, {"param_name": "dia", "example": "amanhã"}]},
    },
]  # fmt: skip


async def test_templates_list_their_slots_as_objects_and_a_preview(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw, _ = await closed_window(runtime, client)
    [order, _promo] = (await client.get(f"/api/v1/channels/{mw.channel_id}/templates", headers=mw.agent.headers)).json()
    assert order["slots"] == [
        {"component": "header", "kind": "image", "name": "1", "button_index": None, "prefix": None,
         "example": None, "max_length": None, "context": None},
        {"component": "body", "kind": "text", "name": "1", "button_index": None, "prefix": None,
         "example": None, "max_length": 1024, "context": "Hi {{1}}, your order {{2}} has shipped."},
        {"component": "body", "kind": "text", "name": "2", "button_index": None, "prefix": None,
         "example": None, "max_length": 1024, "context": "Hi {{1}}, your order {{2}} has shipped."},
        {"component": "button", "kind": "text", "name": "1", "button_index": 0, "prefix": "https://t.example/",
         "example": None, "max_length": 2000 - len("https://t.example/"), "context": "Track: https://t.example/{{1}}"},
    ]  # fmt: skip
    assert order["preview"] == {
        "header_format": "image",
        "header_text": None,
        "body": "Hi {{1}}, your order {{2}} has shipped.",
        "footer": "Segurozinho",
        "buttons": [{"type": "url", "text": "Track", "url": "https://t.example/{{1}}", "phone_number": None}],
    }


@pytest.mark.parametrize(
    ("body_value", "problem"),
    [
        ("Ana\nSouza", "line break"),
        ("Ana\tSouza", "tab"),
        ("Ana     Souza", "more than four spaces"),
        ("x" * 1025, "at most 1024"),
        ("  ", "is empty"),
    ],
)
async def test_a_value_whatsapp_would_refuse_is_a_422_naming_the_slot(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer, body_value: str, problem: str
) -> None:
    mw, conversation_id = await closed_window(runtime, client)
    parameters = [{"type": "image", "link": "https://img.example/box.jpg"}, "Ana", body_value, "track-42"]
    response = await reply(
        client, mw, conversation_id, {"template": {"name": "order_update", "parameters": parameters}}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "template_invalid"
    assert error["message"].startswith("parameter 3 (body {{2}} (text))") and problem in error["message"]
    assert error["details"]["slot"] == {"component": "body", "name": "2", "button_index": None}
    await drain(runtime)
    assert peer.requests == []


async def test_a_location_header_and_named_parameters_go_out(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw, conversation_id = await closed_window(runtime, client)
    async with runtime.db.transaction() as session:
        session.add(
            MessageTemplate(
                channel_id=mw.channel_id, name="visit", language="pt_BR", category="UTILITY", status="APPROVED",
                components=VISIT,
            )
        )  # fmt: skip
    missing = await reply(
        client,
        mw,
        conversation_id,
        {"template": {"name": "visit", "parameters": [{"type": "location"}, "Ana", "hoje"]}},
    )
    assert missing.status_code == 422 and "needs a latitude and a longitude" in missing.json()["error"]["message"]
    peer.default = httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.V1"}]})
    place = {"type": "location", "latitude": -23.55, "longitude": -46.63, "name": "Loja Centro"}
    sent = await reply(
        client, mw, conversation_id, {"template": {"name": "visit", "parameters": [place, "Ana", "hoje"]}}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["text"] == "Olá Ana, sua visita é hoje."
    await drain(runtime)
    [request] = peer.requests
    assert json.loads(request.content)["template"]["components"] == [
        {"type": "header", "parameters": [
            {"type": "location", "location": {"latitude": -23.55, "longitude": -46.63, "name": "Loja Centro"}}]},
        {"type": "body", "parameters": [
            {"type": "text", "text": "Ana", "parameter_name": "nome"},
            {"type": "text", "text": "hoje", "parameter_name": "dia"}]},
    ]  # fmt: skip
