"""The public privacy-policy and terms pages: default text naming the company, or a file, always escaped."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from helpline.app import create_app
from helpline.privacy.pages import render_text
from tests.conftest import make_settings


async def test_default_privacy_policy_names_the_company(client: httpx.AsyncClient) -> None:
    response = await client.get("/privacy")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Segurozinho &lt;Seguros&gt;" in response.text and "<Seguros>" not in response.text
    assert "/meta/data-deletion/status/" in response.text
    terms = await client.get("/terms")
    assert terms.status_code == 200 and "/privacy" in terms.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_policy_from_a_file_is_rendered_escaped(tmp_path: Path, db_url: str) -> None:
    policy = tmp_path / "policy.md"
    policy.write_text("# Our policy\n\nWe keep **little**.\n<script>alert(1)</script>\n\n- one\n- two & three\n")
    app = create_app(make_settings(tmp_path, db_url, privacy_policy_file=policy), migrate=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        text = (await client.get("/privacy")).text
    assert "<h1>Our policy</h1>" in text and "<strong>little</strong>" in text
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert "<ul><li>one</li><li>two &amp; three</li></ul>" in text


def test_render_text_subset() -> None:
    assert render_text("## A\n\nline one\nline two") == "<h2>A</h2>\n<p>line one line two</p>"
