"""GET /channels/{id}/doctor: the Meta doctor's checklist for one channel, asked of the Meta sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from helpline.app import create_app
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.runtime import Runtime
from helpline.sandbox.meta import MetaSandbox, create_sandbox_app
from helpline.sandbox.meta.standalone import ASSETS, populate
from helpline.settings import Settings
from tests.compliance.test_doctor import BASE
from tests.conftest import World, make_settings, make_world

APP_IDS = ["base_url", "app_secret", "verify_token", "privacy_policy", "data_deletion_callback", "webhook_verification"]
CHANNEL_IDS = ["token_valid", "permissions", "webhook_subscription"]


@pytest.fixture
def sandbox() -> MetaSandbox:
    return populate(MetaSandbox(app_secret="sandbox-app-secret", public_url="http://graph.test"))


@pytest.fixture
async def app(tmp_path: Path, db_url: str, sandbox: MetaSandbox) -> AsyncIterator[FastAPI]:
    settings: Settings = make_settings(
        tmp_path,
        db_url,
        base_url=BASE,
        meta_app_secret="sandbox-app-secret",
        meta_verify_token="verify-me",
        meta_app_id="900000000000001",
        meta_graph_url="http://graph.test",
    )
    graph = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)))
    application = create_app(settings, migrate=False, http=graph)
    async with application.router.lifespan_context(application):
        yield application


async def meta_channel(runtime: Runtime, kind: str, settings: dict[str, Any], token: str) -> int:
    async with runtime.db.transaction() as session:
        channel, _ = await create_channel(
            session,
            ChannelCreate(kind=kind, name=f"Sandbox {kind}", settings=settings, credentials={"access_token": token}),
            box=runtime.box,
            actor_id=None,
            allow_private=True,
        )
    return channel.id


async def doctor(client: httpx.AsyncClient, world: World, channel_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/channels/{channel_id}/doctor", headers=world.admin.headers)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_a_healthy_whatsapp_channel_passes_every_check(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: MetaSandbox
) -> None:
    world = await make_world(runtime, client)
    settings = {"phone_number_id": ASSETS.phone_number_id, "waba_id": ASSETS.waba_id}
    channel_id = await meta_channel(runtime, "whatsapp", settings, ASSETS.whatsapp_token)
    report = await doctor(client, world, channel_id)
    assert [c["id"] for c in report["checks"]] == APP_IDS + CHANNEL_IDS
    assert [c for c in report["checks"] if c["status"] != "ok"] == []
    assert (report["channel_id"], report["passed"], report["warnings"], report["failed"]) == (channel_id, 9, 0, 0)
    token = next(c for c in report["checks"] if c["id"] == "token_valid")
    assert token["message"] == "type SYSTEM_USER, never expires" and token["fix"] == ""


async def test_failures_and_warnings_name_their_fix(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: MetaSandbox
) -> None:
    world = await make_world(runtime, client)
    page = await meta_channel(runtime, "messenger", {"page_id": ASSETS.page_id}, ASSETS.page_token)
    instagram = await meta_channel(runtime, "instagram", {"ig_account_id": ASSETS.instagram_id}, ASSETS.instagram_token)
    sandbox.tokens[ASSETS.page_token].scopes = ["pages_show_list"]
    del sandbox.subscriptions[ASSETS.instagram_id]
    sandbox.tokens[ASSETS.instagram_token].expires_at = sandbox.clock.timestamp() + 3600

    messenger_report = await doctor(client, world, page)
    failed = {c["id"]: c for c in messenger_report["checks"] if c["status"] == "fail"}
    assert list(failed) == ["permissions"]
    assert failed["permissions"]["message"] == "missing pages_manage_metadata, pages_messaging"
    assert "App Review" in failed["permissions"]["fix"]

    instagram_report = await doctor(client, world, instagram)
    by_id = {c["id"]: c for c in instagram_report["checks"]}
    assert by_id["token_valid"]["status"] == "warn" and "System User" in by_id["token_valid"]["fix"]
    assert by_id["webhook_subscription"]["status"] == "fail"
    assert "subscribed_apps" in by_id["webhook_subscription"]["fix"]
    assert (instagram_report["warnings"], instagram_report["failed"]) == (1, 1)


async def test_only_admins_and_only_meta_channels(client: httpx.AsyncClient, runtime: Runtime) -> None:
    world = await make_world(runtime, client)
    api = await client.get(f"/api/v1/channels/{world.channel_id}/doctor", headers=world.admin.headers)
    assert api.status_code == 422 and api.json()["error"]["code"] == "not_meta"
    for persona in (world.supervisor, world.agent):
        denied = await client.get(f"/api/v1/channels/{world.channel_id}/doctor", headers=persona.headers)
        assert denied.status_code == 403
    missing = await client.get("/api/v1/channels/424242/doctor", headers=world.admin.headers)
    assert missing.status_code == 404
