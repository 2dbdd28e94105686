"""`helpline meta doctor` against the Meta sandbox and Helpline's own app: a clean pass, and each failure."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from helpline.app import create_app
from helpline.cli import main
from helpline.compliance.doctor import MetaTarget, check_base_url, render, run_doctor
from helpline.platform.crypto import SecretBox
from helpline.sandbox.meta import MetaSandbox, create_sandbox_app
from helpline.sandbox.meta.standalone import ASSETS, populate
from helpline.settings import Settings
from tests.conftest import make_settings

BASE = "https://help.segurozinho.com.br"


def targets() -> list[MetaTarget]:
    a = ASSETS
    return [
        MetaTarget(
            1,
            "WhatsApp",
            "whatsapp",
            {"access_token": a.whatsapp_token},
            {"phone_number_id": a.phone_number_id, "waba_id": a.waba_id},
        ),
        MetaTarget(2, "Page", "messenger", {"access_token": a.page_token}, {"page_id": a.page_id}),
        MetaTarget(3, "IG", "instagram", {"access_token": a.instagram_token}, {"instagram_account_id": a.instagram_id}),
    ]


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(
        tmp_path,
        db_url,
        base_url=BASE,
        meta_app_secret="sandbox-app-secret",
        meta_verify_token="verify-me",
        meta_app_id="900000000000001",
        meta_graph_url="http://graph.test",
    )


def _with_verification_route(app: FastAPI, token: str) -> FastAPI:
    """Until the Meta adapters add GET /webhooks/meta, stand in for it so the pass case can pass."""
    if any(getattr(route, "path", None) == "/webhooks/meta" for route in app.routes):
        return app

    @app.get("/webhooks/meta")
    async def verify(request: Request) -> PlainTextResponse:
        ok = request.query_params.get("hub.verify_token") == token
        return PlainTextResponse(
            request.query_params.get("hub.challenge", "") if ok else "no", status_code=200 if ok else 403
        )

    return app


@pytest.fixture
async def clients(settings: Settings) -> AsyncIterator[tuple[MetaSandbox, httpx.AsyncClient, httpx.AsyncClient]]:
    sandbox = populate(MetaSandbox(app_secret="sandbox-app-secret", public_url="http://graph.test"))
    app = _with_verification_route(create_app(settings, migrate=False), settings.meta_verify_token)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(sandbox))) as graph,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as helpline,
    ):
        yield sandbox, graph, helpline


async def test_everything_passes(
    settings: Settings, clients: tuple[MetaSandbox, httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    _, graph, helpline = clients
    checks = await run_doctor(settings, targets(), graph=graph, app=helpline)
    assert [c for c in checks if c.status != "ok"] == []
    text = render(checks)
    assert "[FAIL]" not in text and "never expires" in text and f"{len(checks)} of {len(checks)}" in text


async def test_each_failure_names_its_fix(
    settings: Settings, clients: tuple[MetaSandbox, httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    sandbox, graph, helpline = clients
    sandbox.tokens[ASSETS.whatsapp_token].valid = False
    sandbox.tokens[ASSETS.page_token].scopes = ["pages_show_list"]
    del sandbox.subscriptions[ASSETS.instagram_id]
    checks = await run_doctor(settings, targets(), graph=graph, app=helpline)
    failed = {(c.channel, c.name): c for c in checks if c.status == "fail"}
    token = failed[("#1 WhatsApp (whatsapp)", "Token is valid")]
    assert "System User" in token.fix
    scopes = failed[("#2 Page (messenger)", "Permissions granted")]
    assert "pages_messaging" in scopes.detail and "pages_manage_metadata" in scopes.detail
    subscription = failed[("#3 IG (instagram)", "Webhook subscription")]
    assert "subscribed_apps" in subscription.fix
    # With a revoked token the WhatsApp subscription cannot be read either.
    assert ("#1 WhatsApp (whatsapp)", "Webhook subscription") in failed
    assert len(failed) == 4


async def test_expiring_token_warns(
    settings: Settings, clients: tuple[MetaSandbox, httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    sandbox, graph, helpline = clients
    sandbox.tokens[ASSETS.page_token].expires_at = sandbox.clock.timestamp() + 3600
    checks = await run_doctor(settings, targets()[1:2], graph=graph, app=helpline)
    assert [c.name for c in checks if c.status == "warn"] == ["Token is valid"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_missing_pages_and_settings_fail(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, db_url, base_url="http://127.0.0.1:8000")
    sandbox = populate(MetaSandbox())
    # "app" is the sandbox here: it serves no /privacy and no data-deletion callback.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox_app(sandbox))) as other:
        checks = await run_doctor(settings, [], graph=other, app=other)
    failed = {c.name for c in checks if c.status == "fail"}
    assert failed == {
        "HELPLINE_BASE_URL is public HTTPS",
        "HELPLINE_META_APP_SECRET is set",
        "HELPLINE_META_VERIFY_TOKEN is set",
        "Privacy policy is served",
        "Data deletion callback is served",
    }
    assert any(c.status == "warn" and c.name == "Meta channels" for c in checks)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://help.example.com", True),
        ("http://help.example.com", False),
        ("https://localhost", False),
        ("https://10.0.0.4", False),
        ("https://helpline.local", False),
        ("https://8.8.8.8", True),
    ],
)
def test_base_url_must_be_public_https(url: str, ok: bool) -> None:
    assert (check_base_url(url).status == "ok") is ok


def test_cli_exits_non_zero_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HELPLINE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("HELPLINE_BASE_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("HELPLINE_META_GRAPH_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("HELPLINE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    # A Meta channel row, written directly so this test does not depend on the adapters' validation.
    sealed = SecretBox("k" * 40).seal({"access_token": "t"})
    with sqlite3.connect(tmp_path / "var" / "helpline.db") as db:
        db.execute(
            "insert into channels (kind, name, credentials, settings, status, created_at, updated_at) "
            "values ('messenger', 'Page', ?, '{\"page_id\": \"1\"}', 'active', '2026-01-01', '2026-01-01')",
            (sealed,),
        )
    result = runner.invoke(main, ["meta", "doctor"])
    assert result.exit_code == 1, result.output
    assert "[FAIL] HELPLINE_BASE_URL is public HTTPS" in result.output
    assert "#1 Page (messenger): Token is valid" in result.output and "fix:" in result.output
    assert runner.invoke(main, ["meta", "doctor", "--channel", "99"]).exit_code != 0


async def test_the_doctor_sends_graph_tokens_in_headers_not_urls(
    settings: Settings, clients: tuple[MetaSandbox, httpx.AsyncClient, httpx.AsyncClient]
) -> None:
    """URLs reach access logs and proxies: the app token and the channel tokens authenticate by header."""
    _, graph, helpline = clients
    urls: list[str] = []

    async def remember(request: httpx.Request) -> None:
        urls.append(str(request.url))

    graph.event_hooks["request"].append(remember)
    checks = await run_doctor(settings, targets(), graph=graph, app=helpline)
    assert [c for c in checks if c.status != "ok"] == []
    assert urls
    app_token = f"{settings.meta_app_id}|{settings.meta_app_secret}"
    for url in urls:
        assert "access_token=" not in url, url
        assert "sandbox-app-secret" not in url and app_token not in url
