"""The sandbox's Messenger and Instagram Send API: windows with HUMAN_AGENT, echoes, receipts, limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from helpline.sandbox.meta import MetaSandbox
from tests.sandbox.conftest import Receiver, bearer

PAGE = "1122334455"
IG = "17841400000000001"
PSID = "2400000000000001"


def reply(text: str, **extra: Any) -> dict[str, Any]:
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": text}, **extra}


async def test_messenger_inbound_and_reply_with_echo_delivery_read(
    sandbox: MetaSandbox, receiver: Receiver, graph: httpx.AsyncClient
) -> None:
    _, token = sandbox.add_page(PAGE)
    mid = await sandbox.customer_says(PAGE, PSID, "Oi, tudo bem?")
    inbound = receiver.payloads()[0]
    assert inbound["object"] == "page"
    event = inbound["entry"][0]["messaging"][0]
    assert event["sender"] == {"id": PSID} and event["recipient"] == {"id": PAGE}
    assert event["message"] == {"mid": mid, "text": "Oi, tudo bem?"} and isinstance(event["timestamp"], int)

    response = await graph.post("/me/messages", json=reply("Olá!"), headers=bearer(token.value))
    assert response.status_code == 200, response.text
    assert response.json()["recipient_id"] == PSID
    sent_mid = response.json()["message_id"]
    await sandbox.drain()
    events = [p["entry"][0]["messaging"][0] for p in receiver.payloads()[1:]]
    echo, delivery, read = events
    assert echo["message"]["is_echo"] is True and echo["message"]["app_id"] == int(sandbox.app_id)
    assert echo["message"]["mid"] == sent_mid and echo["sender"] == {"id": PAGE}
    assert delivery["delivery"]["mids"] == [sent_mid] and "watermark" in delivery["delivery"]
    assert "watermark" in read["read"]
    assert all(receiver.valid)


async def test_messenger_window_and_human_agent(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_page(PAGE)
    await sandbox.customer_says(PAGE, PSID, "hello")
    sandbox.advance_clock(timedelta(hours=30))
    late = await graph.post(f"/{PAGE}/messages", json=reply("late"), headers=bearer(token.value))
    assert late.status_code == 400
    error = late.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (10, 2018278, "OAuthException")
    assert "outside of allowed window" in error["message"] and error["fbtrace_id"]
    human = reply("a person answering", messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    assert (await graph.post(f"/{PAGE}/messages", json=human, headers=bearer(token.value))).status_code == 200
    sandbox.advance_clock(timedelta(days=6))
    too_late = await graph.post(f"/{PAGE}/messages", json=human, headers=bearer(token.value))
    assert too_late.json()["error"]["error_subcode"] == 2018278
    untagged = reply("x", messaging_type="MESSAGE_TAG")
    assert (await graph.post(f"/{PAGE}/messages", json=untagged, headers=bearer(token.value))).status_code == 400


async def test_instagram_limits_window_and_echo(
    sandbox: MetaSandbox, receiver: Receiver, graph: httpx.AsyncClient
) -> None:
    _, token = sandbox.add_page(IG, kind="instagram")
    await sandbox.customer_says(IG, PSID, "vi no story 😍", media=(b"jpeg", "image/jpeg"))
    inbound = receiver.payloads()[0]
    assert inbound["object"] == "instagram"
    attachment = inbound["entry"][0]["messaging"][0]["message"]["attachments"][0]
    assert attachment["type"] == "image"
    assert (await graph.get(attachment["payload"]["url"])).content == b"jpeg"  # CDN link, no token needed
    too_long = await graph.post(f"/{IG}/messages", json=reply("x" * 1001), headers=bearer(token.value))
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == 100
    ok = await graph.post(f"/{IG}/messages", json=reply("obrigado!"), headers=bearer(token.value))
    assert ok.status_code == 200
    await sandbox.drain()
    echo, read = (p["entry"][0]["messaging"][0] for p in receiver.payloads()[1:])
    assert echo["message"]["is_echo"] is True and read["read"] == {"mid": ok.json()["message_id"]}
    sandbox.advance_clock(timedelta(hours=25))
    late = await graph.post(f"/{IG}/messages", json=reply("late"), headers=bearer(token.value))
    assert (late.json()["error"]["code"], late.json()["error"]["error_subcode"]) == (10, 2534022)


async def test_attachment_upload(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_page(PAGE)
    await sandbox.customer_says(PAGE, PSID, "hi")
    upload = await graph.post(
        f"/{PAGE}/message_attachments",
        headers=bearer(token.value),
        json={
            "message": {
                "attachment": {"type": "image", "payload": {"url": "https://x.test/a.png", "is_reusable": True}}
            }
        },
    )
    attachment_id = upload.json()["attachment_id"]
    body = {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"attachment": {"type": "image", "payload": {"attachment_id": attachment_id}}},
    }
    assert (await graph.post(f"/{PAGE}/messages", json=body, headers=bearer(token.value))).status_code == 200
    body["message"]["attachment"]["payload"]["attachment_id"] = "999"  # type: ignore[index]
    bad = await graph.post(f"/{PAGE}/messages", json=body, headers=bearer(token.value))
    assert bad.json()["error"]["error_subcode"] == 2018047


@pytest.mark.parametrize("kind", ["messenger", "instagram"])
async def test_page_rate_limit_is_613(sandbox: MetaSandbox, graph: httpx.AsyncClient, kind: str) -> None:
    _, token = sandbox.add_page(PAGE, kind=kind)
    await sandbox.customer_says(PAGE, PSID, "hi")
    sandbox.set_rate_limit(token.value, 2, per_seconds=60)
    codes = [
        (await graph.post("/me/messages", json=reply("x"), headers=bearer(token.value))).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 400]
    assert sandbox.calls[-1].response["error"]["code"] == 613
    sandbox.advance_clock(61)
    assert (await graph.post("/me/messages", json=reply("x"), headers=bearer(token.value))).status_code == 200
