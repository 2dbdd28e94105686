"""A channel flagged needs_reauth clears when new credentials are saved and the provider accepts them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from helpline.channels.actions import mark_needs_reauth
from helpline.runtime import Runtime
from helpline.settings import Settings
from tests.channels.meta_support import PHONE_NUMBER_ID, graph_error, meta_settings, meta_world
from tests.platform.fake_peer import Peer


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    result: Settings = meta_settings(tmp_path, db_url)
    return result


async def test_needs_reauth_clears_only_on_credentials_the_provider_accepts(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    async with runtime.db.transaction() as session:
        await mark_needs_reauth(session, world.channel_id, "(#190) Error validating access token")
    path = f"/api/v1/channels/{world.channel_id}"

    peer.script = [graph_error(190, "Error validating access token: Session has expired", status=401)]
    refused = await client.patch(
        path, json={"credentials": {"access_token": "EAAG-still-wrong"}}, headers=world.admin.headers
    )
    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "needs_reauth"

    peer.script = [httpx.Response(200, json={"id": PHONE_NUMBER_ID})]
    accepted = await client.patch(
        path, json={"credentials": {"access_token": "EAAG-new-and-good"}}, headers=world.admin.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "active"
    check = peer.requests[-1]
    assert check.method == "GET" and check.url.path.endswith(f"/{PHONE_NUMBER_ID}")
    assert check.headers["authorization"] == "Bearer EAAG-new-and-good"


async def test_saving_other_settings_does_not_clear_needs_reauth(
    client: httpx.AsyncClient, runtime: Runtime, peer: Peer
) -> None:
    world = await meta_world(runtime, client, "whatsapp")
    async with runtime.db.transaction() as session:
        await mark_needs_reauth(session, world.channel_id, "(#190) token expired")
    renamed = await client.patch(
        f"/api/v1/channels/{world.channel_id}", json={"name": "Renamed"}, headers=world.admin.headers
    )
    assert renamed.json()["status"] == "needs_reauth" and peer.requests == []
