"""Security headers on every kind of response, HSTS only behind HTTPS, and /metrics access control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from helpline.app import create_app
from tests.conftest import make_settings


@pytest.fixture
def app_with(tmp_path: Path, db_url: str) -> Any:
    """`async with app_with(client=(ip, port), **settings) as client`: an app with those settings, seen from ip."""

    class Factory:
        def __init__(self) -> None:
            self.count = 0

        def __call__(self, client: tuple[str, int] = ("127.0.0.1", 123), **overrides: Any) -> _Running:
            self.count += 1
            (tmp_path / f"app{self.count}").mkdir()
            settings = make_settings(tmp_path / f"app{self.count}", db_url, **overrides)
            return _Running(create_app(settings, migrate=False), client)

    return Factory()


class _Running:
    def __init__(self, app: FastAPI, client: tuple[str, int]) -> None:
        self.app = app
        self.client_address = client

    async def __aenter__(self) -> httpx.AsyncClient:
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        transport = httpx.ASGITransport(app=self.app, client=self.client_address)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()
        await self._lifespan.__aexit__(None, None, None)


async def test_every_response_kind_carries_nosniff_and_a_referrer_policy(app_with: Any) -> None:
    async with app_with() as client:
        for path in ("/login", "/api/v1/health", "/api/v1/conversations", "/no/such/page", "/privacy"):
            response = await client.get(path)
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["referrer-policy"] == "same-origin", path
            if response.headers["content-type"].startswith("text/html"):
                csp = response.headers["content-security-policy"]
                assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
                assert response.headers["x-frame-options"] == "DENY"
        # Over plain HTTP there is no HSTS (it would be ignored, and wrong for a LAN install).
        assert "strict-transport-security" not in (await client.get("/login")).headers


async def test_hsts_behind_https(app_with: Any) -> None:
    async with app_with(base_url="https://inbox.example.com") as client:
        response = await client.get("/api/v1/health")
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_metrics_are_open_when_nothing_is_configured(app_with: Any) -> None:
    async with app_with() as client:
        assert (await client.get("/metrics")).status_code == 200


async def test_metrics_token(app_with: Any) -> None:
    async with app_with(metrics_token="scrape-me-0123456789") as client:
        missing = await client.get("/metrics")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"})
        assert ok.status_code == 200 and "helpline" in ok.text


async def test_metrics_allow_list(app_with: Any) -> None:
    async with app_with(client=("10.1.2.3", 9), metrics_allow=["10.0.0.0/8"]) as inside:
        assert (await inside.get("/metrics")).status_code == 200
    async with app_with(client=("192.0.2.5", 9), metrics_allow=["10.0.0.0/8"]) as outside:
        refused = await outside.get("/metrics")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        # ...but an allow-list plus a token admits either.
    async with app_with(client=("192.0.2.5", 9), metrics_allow=["10.0.0.0/8"], metrics_token="t0ken-abcdef") as both:
        assert (await both.get("/metrics", headers={"Authorization": "Bearer t0ken-abcdef"})).status_code == 200
        assert (await both.get("/metrics")).status_code == 401


async def test_metrics_allow_list_uses_the_forwarded_client_only_behind_a_trusted_proxy(app_with: Any) -> None:
    forwarded = {"X-Forwarded-For": "10.9.9.9"}
    async with app_with(client=("192.0.2.5", 9), metrics_allow=["10.0.0.0/8"]) as direct:
        assert (await direct.get("/metrics", headers=forwarded)).status_code == 403
    async with app_with(
        client=("192.0.2.5", 9), metrics_allow=["10.0.0.0/8"], trusted_proxies=["192.0.2.0/24"]
    ) as proxied:
        assert (await proxied.get("/metrics", headers=forwarded)).status_code == 200
