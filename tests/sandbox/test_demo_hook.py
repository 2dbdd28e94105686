"""The demo mounts the Meta sandbox at /sandbox/meta and points Helpline's Graph calls at it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from helpline.app import create_app
from helpline.sandbox.meta import demo as meta_demo
from helpline.sandbox.meta.standalone import ASSETS
from tests.conftest import make_settings


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_demo_mounts_the_sandbox(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, db_url, demo=True, demo_interval_seconds=3600)
    app = create_app(settings, migrate=False)
    assert settings.meta_graph_url == "http://testserver/sandbox/meta"
    assert settings.meta_app_secret == "sandbox-app-secret"
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        response = await client.get(
            "/sandbox/meta/v21.0/debug_token",
            params={"input_token": ASSETS.page_token, "access_token": ASSETS.page_token},
        )
        assert response.status_code == 200 and response.json()["data"]["is_valid"] is True
        templates = await client.get(
            f"/sandbox/meta/v21.0/{ASSETS.waba_id}/message_templates",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {ASSETS.whatsapp_token}"},
        )
        # The paging URL keeps the mount prefix, so a client can follow it.
        assert templates.json()["paging"]["next"].startswith("http://testserver/sandbox/meta/v21.0/")
        started = await meta_demo.start(app.state.runtime, app.state.meta_sandbox, None, None)
        assert started is meta_demo.adapters_available()
