"""The sandbox's Graph plumbing: tokens, error shapes, injection, rate limits, debug_token, retries, batches."""

from __future__ import annotations

import json

import httpx

from helpline.sandbox.meta import MetaSandbox
from tests.sandbox.conftest import Receiver, bearer

PHONE = "106540352242922"
PAGE = "1122334455"


def text(body: str) -> dict[str, object]:
    return {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": body}}


async def test_unknown_expired_and_missing_tokens(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    unknown = await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer("EAAG-nope"))
    assert unknown.status_code == 401
    error = unknown.json()["error"]
    assert error["code"] == 190 and error["type"] == "OAuthException" and error["fbtrace_id"]
    token.expires_at = sandbox.clock.timestamp() + 60
    sandbox.advance_clock(61)
    expired = await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer(token.value))
    assert expired.status_code == 401 and expired.json()["error"]["error_subcode"] == 463
    missing = await graph.post(f"/{PHONE}/messages", json=text("x"))
    assert missing.status_code == 400 and missing.json()["error"]["code"] == 104
    # The token may also come as the access_token parameter.
    token.expires_at = 0
    await sandbox.customer_says(PHONE, "16505551234", "hi")
    via_query = await graph.post(f"/{PHONE}/messages", json=text("x"), params={"access_token": token.value})
    assert via_query.status_code == 200


async def test_token_of_another_asset_is_refused(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    sandbox.add_whatsapp_number(PHONE)
    _, page_token = sandbox.add_page(PAGE)
    response = await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer(page_token.value))
    assert response.status_code == 403 and response.json()["error"]["code"] == 200


async def test_unknown_object_is_unsupported_request(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    response = await graph.get("/404404", headers=bearer(token.value))
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "GraphMethodException"
    assert response.json()["error"]["error_subcode"] == 33


async def test_error_injection_sync_and_async(
    sandbox: MetaSandbox, receiver: Receiver, graph: httpx.AsyncClient
) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    await sandbox.customer_says(PHONE, "16505551234", "hi")
    sandbox.inject_error(131056, message="(#131056) Pair rate limit hit", times=2, path_contains="/messages")
    for _ in range(2):
        failed = await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer(token.value))
        assert failed.status_code == 400 and failed.json()["error"]["code"] == 131056
    assert (await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer(token.value))).status_code == 200
    sandbox.inject_error(500, status=503)
    assert (await graph.get("/me/permissions", headers=bearer(token.value))).status_code == 503
    sandbox.inject_error(131026, message="Message undeliverable", asynchronous=True)
    accepted = await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer(token.value))
    assert accepted.status_code == 200
    await sandbox.drain()
    status = receiver.payloads()[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131026


async def test_whatsapp_rate_limit_is_130429_and_others_4(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_whatsapp_number(PHONE)
    await sandbox.customer_says(PHONE, "16505551234", "hi")
    sandbox.set_rate_limit(token.value, 1)
    assert (await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer(token.value))).status_code == 200
    limited = await graph.post(f"/{PHONE}/messages", json=text("x"), headers=bearer(token.value))
    assert limited.status_code == 400 and limited.json()["error"]["code"] == 130429
    other = await graph.get("/me/permissions", headers=bearer(token.value))
    assert other.status_code == 429 and other.json()["error"]["code"] == 4


async def test_debug_token_and_permissions(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    number, token = sandbox.add_whatsapp_number(PHONE)
    token.declined = ["business_management"]
    app_token = sandbox.app_token()
    data = (await graph.get("/debug_token", params={"input_token": token.value, "access_token": app_token})).json()
    data = data["data"]
    assert data["is_valid"] is True and data["type"] == "SYSTEM_USER" and data["expires_at"] == 0
    assert "whatsapp_business_messaging" in data["scopes"]
    granular = {g["scope"]: g.get("target_ids") for g in data["granular_scopes"]}
    assert granular["whatsapp_business_messaging"] == [number.waba_id]
    unknown = (await graph.get("/debug_token", params={"input_token": "x", "access_token": app_token})).json()
    assert unknown["data"]["is_valid"] is False and unknown["data"]["error"]["code"] == 190
    token.valid = False
    revoked = (await graph.get("/debug_token", params={"input_token": token.value, "access_token": app_token})).json()
    assert revoked["data"]["is_valid"] is False and revoked["data"]["error"]["subcode"] == 460
    token.valid = True
    permissions = (await graph.get("/me/permissions", headers=bearer(token.value))).json()["data"]
    assert {"permission": "business_management", "status": "declined"} in permissions
    assert {"permission": "whatsapp_business_messaging", "status": "granted"} in permissions


async def test_subscribed_apps(sandbox: MetaSandbox, graph: httpx.AsyncClient) -> None:
    _, token = sandbox.add_page(PAGE)
    assert (await graph.get(f"/{PAGE}/subscribed_apps", headers=bearer(token.value))).json() == {"data": []}
    posted = await graph.post(
        f"/{PAGE}/subscribed_apps", params={"subscribed_fields": "messages,message_echoes"}, headers=bearer(token.value)
    )
    assert posted.json() == {"success": True}
    data = (await graph.get(f"/{PAGE}/subscribed_apps", headers=bearer(token.value))).json()["data"]
    assert data[0]["id"] == sandbox.app_id and data[0]["subscribed_fields"] == ["messages", "message_echoes"]


async def test_retry_resends_identical_bytes_and_failures_are_retried(sandbox: MetaSandbox, receiver: Receiver) -> None:
    sandbox.add_whatsapp_number(PHONE)
    await sandbox.customer_says(PHONE, "16505551234", "hi")
    retried = await sandbox.retry_last()
    assert receiver.bodies[0] == receiver.bodies[1] and retried.status == 200 and receiver.valid == [True, True]
    receiver.status = 500
    delivery = await sandbox.customer_says(PHONE, "16505551234", "again")
    assert len(receiver.bodies) == 2 + sandbox.webhooks.max_attempts and delivery
    assert sandbox.webhooks.deliveries[-1].attempts == sandbox.webhooks.max_attempts


async def test_batched_entries_go_in_one_post(sandbox: MetaSandbox, receiver: Receiver) -> None:
    sandbox.add_page(PAGE)
    sandbox.add_page("5566", name="Other page")
    async with sandbox.batched():
        await sandbox.customer_says(PAGE, "1", "one")
        await sandbox.customer_says("5566", "2", "two")
        await sandbox.customer_says(PAGE, "1", "three")
    assert len(receiver.bodies) == 1 and receiver.valid == [True]
    payload = json.loads(receiver.bodies[0])
    assert [e["id"] for e in payload["entry"]] == [PAGE, "5566", PAGE]


async def test_control_routes(sandbox: MetaSandbox, receiver: Receiver, graph: httpx.AsyncClient) -> None:
    sandbox.add_page(PAGE)
    said = await graph.post(
        "http://graph.test/_sandbox/customer_says", json={"asset_id": PAGE, "user_id": "7", "text": "hello"}
    )
    assert said.status_code == 200 and said.json()["delivery_status"] == 200
    assert (await graph.post("http://graph.test/_sandbox/advance_clock", json={"seconds": 90000})).status_code == 200
    assert not sandbox.in_window(PAGE, "7")
    injected = await graph.post("http://graph.test/_sandbox/inject", json={"code": 2, "status": 500})
    assert injected.json()["times"] == 1
    assert (await graph.post("http://graph.test/_sandbox/retry_last")).json() == {"status": 200}
    assert (await graph.get("http://graph.test/_sandbox/sent")).json() == {"data": []}
