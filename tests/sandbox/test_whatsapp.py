"""The sandbox's WhatsApp Cloud API: send shapes, statuses as signed webhooks, the 24 h window, templates, media."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from helpline.sandbox.meta import MetaSandbox
from tests.sandbox.conftest import Receiver, bearer

PHONE = "106540352242922"
WA_ID = "16505551234"


def text(body: str, to: str = "+1 650-555-1234") -> dict[str, object]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": body},
    }


async def test_customer_message_is_a_signed_ascii_escaped_webhook(sandbox: MetaSandbox, receiver: Receiver) -> None:
    sandbox.add_whatsapp_number(PHONE)
    wamid = await sandbox.customer_says(PHONE, WA_ID, "Olá, preciso de ajuda / ü", name="Sheena Nelson")
    assert receiver.valid == [True]
    raw = receiver.bodies[0]
    assert raw.isascii() and b"\\u00e1" in raw and b"\\/" in raw  # escaped like Meta signs it
    payload = json.loads(raw)
    value = payload["entry"][0]["changes"][0]["value"]
    assert payload["object"] == "whatsapp_business_account"
    assert value["metadata"]["phone_number_id"] == PHONE
    assert value["contacts"] == [{"profile": {"name": "Sheena Nelson"}, "wa_id": WA_ID}]
    message = value["messages"][0]
    assert message["id"] == wamid and message["type"] == "text" and message["text"]["body"].endswith("/ ü")
    assert isinstance(message["timestamp"], str)


async def test_every_inbound_type_has_its_body(sandbox: MetaSandbox, receiver: Receiver) -> None:
    sandbox.add_whatsapp_number(PHONE)
    kinds = [
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "unsupported",
        "system",
    ]
    for kind in kinds:
        await sandbox.customer_says(PHONE, WA_ID, None, type=kind)
    messages = [p["entry"][0]["changes"][0]["value"]["messages"][0] for p in receiver.payloads()]
    assert [m["type"] for m in messages] == kinds
    assert messages[0]["image"]["id"] in sandbox.media
    assert messages[2]["audio"]["voice"] is True
    assert messages[10]["errors"][0]["code"] == 131051


async def test_send_inside_window_then_sent_delivered_read(
    sandbox: MetaSandbox, receiver: Receiver, graph: httpx.AsyncClient
) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    await sandbox.customer_says(PHONE, WA_ID, "hi")
    response = await graph.post(f"/{PHONE}/messages", json=text("Hello ✓"), headers=bearer(token.value))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+1 650-555-1234", "wa_id": WA_ID}]
    wamid = body["messages"][0]["id"]
    await sandbox.drain()
    statuses = [p["entry"][0]["changes"][0]["value"]["statuses"][0] for p in receiver.payloads()[1:]]
    assert [(s["id"], s["status"]) for s in statuses] == [(wamid, "sent"), (wamid, "delivered"), (wamid, "read")]
    assert "conversation" in statuses[0] and statuses[0]["pricing"]["pricing_model"] == "PMP"
    assert all(receiver.valid)
    assert sandbox.calls[-1].json == text("Hello ✓")


async def test_free_form_after_24h_is_accepted_then_fails_with_131047(
    sandbox: MetaSandbox, receiver: Receiver, graph: httpx.AsyncClient
) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    await sandbox.customer_says(PHONE, WA_ID, "hi")
    sandbox.advance_clock(timedelta(hours=24, seconds=1))
    response = await graph.post(f"/{PHONE}/messages", json=text("late"), headers=bearer(token.value))
    assert response.status_code == 200  # Cloud API accepts it and reports the failure later
    wamid = response.json()["messages"][0]["id"]
    await sandbox.drain()
    status = receiver.payloads()[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["id"] == wamid and status["status"] == "failed"
    assert status["errors"][0]["code"] == 131047 and "pricing" not in status
    # A template still goes through.
    template = {
        "messaging_product": "whatsapp",
        "to": WA_ID,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
    }
    response = await graph.post(f"/{PHONE}/messages", json=template, headers=bearer(token.value))
    assert response.status_code == 200 and response.json()["messages"][0]["message_status"] == "accepted"
    await sandbox.drain()
    assert receiver.payloads()[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] == "read"


async def test_synchronous_window_mode(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    sandbox.whatsapp_window_errors = "sync"
    response = await graph.post(f"/{PHONE}/messages", json=text("never wrote"), headers=bearer(token.value))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 131047 and error["error_data"]["messaging_product"] == "whatsapp"
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}


async def test_template_validation(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)

    async def send(name: str, params: list[str], language: str = "en_US") -> httpx.Response:
        template = {
            "name": name,
            "language": {"code": language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}],
        }
        return await graph.post(
            f"/{PHONE}/messages",
            headers=bearer(token.value),
            json={"messaging_product": "whatsapp", "to": WA_ID, "type": "template", "template": template},
        )

    assert (await send("order_update", ["Ana", "42"])).status_code == 200
    assert (await send("order_update", ["Ana"])).json()["error"]["code"] == 132000
    assert (await send("nope", [])).json()["error"]["code"] == 132001
    assert (await send("order_update", ["Ana", "42"], "pt_BR")).json()["error"]["code"] == 132001
    assert (await send("summer_promo", [])).json()["error"]["code"] == 132015


async def test_mark_as_read(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    wamid = await sandbox.customer_says(PHONE, WA_ID, "hi")
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    response = await graph.post(f"/{PHONE}/messages", json=body, headers=bearer(token.value))
    assert response.json() == {"success": True}
    body["message_id"] = "wamid.unknown"
    assert (await graph.post(f"/{PHONE}/messages", json=body, headers=bearer(token.value))).status_code == 400


async def test_media_upload_lookup_and_bearer_download(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    response = await graph.post(
        f"/{PHONE}/media",
        headers=bearer(token.value),
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"file": ("a.png", b"\x89PNG fake", "image/png")},
    )
    assert response.status_code == 200, response.text
    media_id = response.json()["id"]
    info = (await graph.get(f"/{media_id}", headers=bearer(token.value))).json()
    assert set(info) == {"url", "mime_type", "sha256", "file_size", "id", "messaging_product"}
    assert info["file_size"] == 9 and info["mime_type"] == "image/png"
    assert (await graph.get(info["url"])).status_code == 401  # the URL needs the bearer token
    download = await graph.get(info["url"], headers=bearer(token.value))
    assert download.content == b"\x89PNG fake" and download.headers["content-type"] == "image/png"
    sandbox.advance_clock(301)  # the URL lives 5 minutes
    assert (await graph.get(info["url"], headers=bearer(token.value))).status_code == 403
    # Sending by that id works; by an unknown id it does not.
    await sandbox.customer_says(PHONE, WA_ID, "hi")
    image = {"messaging_product": "whatsapp", "to": WA_ID, "type": "image", "image": {"id": media_id}}
    assert (await graph.post(f"/{PHONE}/messages", json=image, headers=bearer(token.value))).status_code == 200
    image["image"] = {"id": "404"}
    assert (await graph.post(f"/{PHONE}/messages", json=image, headers=bearer(token.value))).status_code == 400
    assert (await graph.delete(f"/{media_id}", headers=bearer(token.value))).json() == {"success": True}


async def test_templates_are_paginated(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    number, token = sandbox.add_whatsapp_number(PHONE)
    first = (
        await graph.get(f"/{number.waba_id}/message_templates", params={"limit": 3}, headers=bearer(token.value))
    ).json()
    assert [t["name"] for t in first["data"]] == ["hello_world", "order_update", "retomar_atendimento"]
    assert first["paging"]["next"].startswith("http://graph.test/v21.0/")
    second = (await graph.get(first["paging"]["next"], headers=bearer(token.value))).json()
    assert [t["name"] for t in second["data"]] == ["summer_promo"]
    assert "next" not in second["paging"]
