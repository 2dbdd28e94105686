"""The WhatsApp window: free text after 24 h is a 409 naming templates; templates are checked and go out."""

from __future__ import annotations

import json
from typing import Any

import httpx

from helpline.engagement.models import MessageTemplate
from helpline.engagement.templates import sync_all_templates
from helpline.runtime import Runtime
from tests.channels.meta_support import (
    GRAPH,
    VERSION,
    WA_ID,
    WABA_ID,
    MetaWorld,
    age_conversation,
    messages_of,
    meta_world,
    only_conversation,
    post_webhook,
    wa_text,
)
from tests.conftest import drain
from tests.platform.fake_peer import Peer

ORDER_UPDATE: list[dict[str, Any]] = [
    {"type": "HEADER", "format": "IMAGE"},
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped."},
    {"type": "FOOTER", "text": "Segurozinho"},
    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://t.example/{{1}}"}]},
]


async def closed_window(runtime: Runtime, client: httpx.AsyncClient, **kwargs: Any) -> tuple[MetaWorld, int]:
    mw = await meta_world(runtime, client, "whatsapp", **kwargs)
    await post_webhook(client, wa_text("wamid.IN1", "oi"))
    conversation_id: int = (await only_conversation(client, mw))["id"]
    await age_conversation(runtime, conversation_id, hours=25)
    async with runtime.db.transaction() as session:
        session.add_all(
            [
                MessageTemplate(
                    channel_id=mw.channel_id,
                    name="order_update",
                    language="en_US",
                    category="UTILITY",
                    status="APPROVED",
                    components=ORDER_UPDATE,
                ),
                MessageTemplate(
                    channel_id=mw.channel_id,
                    name="promo",
                    language="pt_BR",
                    category="MARKETING",
                    status="PAUSED",
                    components=[{"type": "BODY", "text": "Oferta!"}],
                ),
            ]
        )
    return mw, conversation_id


async def reply(client: httpx.AsyncClient, mw: MetaWorld, conversation_id: int, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=mw.agent.headers)


async def test_free_text_after_24_hours_is_refused_naming_templates(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw, conversation_id = await closed_window(runtime, client)
    conversation = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=mw.agent.headers)).json()
    assert conversation["window"]["state"] == "closed"
    response = await reply(client, mw, conversation_id, {"text": "ainda está aí?"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "reply_window_closed"
    assert error["details"]["allowed"] == ["template"] and "template" in error["message"]
    await drain(runtime)
    assert peer.requests == []
    assert len(await messages_of(client, mw, conversation_id)) == 1  # nothing shown as "sent"


async def test_a_template_reopens_the_conversation_with_checked_parameters(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw, conversation_id = await closed_window(runtime, client)
    peer.default = httpx.Response(200, json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.TPL1"}]})
    template = {
        "name": "order_update",
        "language": "en_US",
        "parameters": [{"type": "image", "link": "https://img.example/box.jpg"}, "Ana", "42", "track-42"],
    }
    response = await reply(client, mw, conversation_id, {"template": template})
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["content_type"] == "template"
    assert message["text"] == "Hi Ana, your order 42 has shipped.\n\nSegurozinho"
    await drain(runtime)
    [request] = peer.requests
    assert request.url.path == f"/{VERSION}/106540352242922/messages"
    assert json.loads(request.content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://img.example/box.jpg"}}]},
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "42"}],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": "track-42"}],
                },
            ],
        },
    }
    [sent] = [m for m in await messages_of(client, mw, conversation_id) if m["direction"] == "outbound"]
    assert (sent["delivery_state"], sent["provider_message_id"]) == ("sent", "wamid.TPL1")


async def test_template_parameters_are_checked_by_count_and_type(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw, conversation_id = await closed_window(runtime, client)
    too_few = await reply(client, mw, conversation_id, {"template": {"name": "order_update", "parameters": ["Ana"]}})
    assert too_few.status_code == 422
    assert "takes 4 parameter(s)" in too_few.json()["error"]["message"]
    wrong_type = await reply(
        client, mw, conversation_id, {"template": {"name": "order_update", "parameters": ["Ana", "Ana", "42", "t"]}}
    )
    assert wrong_type.status_code == 422
    assert "header {{1}} (image)" in wrong_type.json()["error"]["message"]
    paused = await reply(client, mw, conversation_id, {"template": {"name": "promo"}})
    assert paused.status_code == 422 and paused.json()["error"]["code"] == "template_not_approved"
    unknown = await reply(client, mw, conversation_id, {"template": {"name": "nope"}})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_template"
    with_text = await reply(client, mw, conversation_id, {"text": "x", "template": {"name": "order_update"}})
    assert with_text.status_code == 422


async def test_members_list_the_channels_templates(client: httpx.AsyncClient, runtime: Runtime) -> None:
    mw, _ = await closed_window(runtime, client, outsider=True)
    listed = await client.get(f"/api/v1/channels/{mw.channel_id}/templates", headers=mw.agent.headers)
    assert listed.status_code == 200
    [order, promo] = listed.json()
    assert (order["name"], order["status"], promo["status"]) == ("order_update", "APPROVED", "PAUSED")
    assert order["parameters"] == [
        "header {{1}} (image)",
        "body {{1}} (text)",
        "body {{2}} (text)",
        "button 0 {{1}} (text)",
    ]
    assert mw.outsider is not None
    hidden = await client.get(f"/api/v1/channels/{mw.channel_id}/templates", headers=mw.outsider.headers)
    assert hidden.status_code == 404


async def test_sync_stores_the_waba_templates(client: httpx.AsyncClient, runtime: Runtime, peer: Peer) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    listing = {
        "data": [
            {"id": "1", "name": "hello", "language": "en_US", "category": "UTILITY", "status": "APPROVED",
             "components": [{"type": "BODY", "text": "Hello {{1}}"}]},
        ],
        "paging": {"cursors": {"before": "MA", "after": "MQ"}},
    }  # fmt: skip
    peer.default = httpx.Response(200, json=listing)
    response = await client.post(f"/api/v1/channels/{mw.channel_id}/templates/sync", headers=mw.admin.headers)
    assert response.status_code == 200 and response.json() == {"templates": 1}
    assert str(peer.requests[0].url).startswith(f"{GRAPH}/{VERSION}/{WABA_ID}/message_templates")
    denied = await client.post(f"/api/v1/channels/{mw.channel_id}/templates/sync", headers=mw.agent.headers)
    assert denied.status_code == 403
    peer.default = httpx.Response(200, json={"data": []})
    assert await sync_all_templates(runtime) == {mw.channel_id: 0}
    listed = (await client.get(f"/api/v1/channels/{mw.channel_id}/templates", headers=mw.agent.headers)).json()
    assert [t["status"] for t in listed] == ["DELETED"]


async def test_a_token_error_marks_the_channel_for_re_authorisation(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    mw = await meta_world(runtime, client, "whatsapp")
    await post_webhook(client, wa_text("wamid.IN1", "oi"))
    conversation_id = (await only_conversation(client, mw))["id"]
    peer.default = httpx.Response(
        401, json={"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
    )
    assert (await reply(client, mw, conversation_id, {"text": "olá"})).status_code == 201
    await drain(runtime)
    [_, sent] = await messages_of(client, mw, conversation_id)
    assert (sent["delivery_state"], sent["error_code"]) == ("failed", "190")
    channel = (await client.get(f"/api/v1/channels/{mw.channel_id}", headers=mw.admin.headers)).json()
    assert channel["status"] == "needs_reauth"
