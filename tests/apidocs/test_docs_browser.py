"""/docs and /redoc in a real browser: offline (anything off-origin is blocked), under their CSP, fully rendered."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, Request, Route, async_playwright

from helpline.app import create_app
from tests.conftest import make_settings
from tests.e2e.conftest import bound_socket, uvicorn_on

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed")


@pytest.fixture
async def docs_server(tmp_path: Path) -> AsyncIterator[str]:
    sock = bound_socket()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(
        make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/docs.db", base_url=base_url), migrate=False
    )
    async with uvicorn_on(sock, uvicorn.Config(app, log_level="warning", lifespan="on")):
        yield base_url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def _offline_page(browser: Browser, base_url: str, blocked: list[str], console: list[str]) -> Page:
    page = await browser.new_page()

    async def only_same_origin(route: Route, request: Request) -> None:
        if request.url.startswith(base_url + "/") or request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            blocked.append(request.url)
            await route.abort()

    await page.route("**/*", only_same_origin)
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    return page


async def test_swagger_ui_renders_every_operation_offline(docs_server: str, browser: Browser) -> None:
    blocked: list[str] = []
    console: list[str] = []
    page = await _offline_page(browser, docs_server, blocked, console)
    await page.goto(docs_server + "/docs")
    await page.wait_for_selector(".opblock", timeout=20_000)
    operations = await page.locator(".opblock").count()
    document = await (await page.request.get(docs_server + "/openapi.json")).json()
    verbs = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    # Swagger UI lists an operation once under each of its tags.
    expected = sum(
        max(1, len(operation.get("tags", [])))
        for item in document["paths"].values()
        for verb, operation in item.items()
        if verb in verbs
    )
    assert operations == expected
    assert blocked == []
    assert not [line for line in console if "Content Security Policy" in line or line.startswith("pageerror")]


async def test_redoc_renders_the_whole_document_offline(docs_server: str, browser: Browser) -> None:
    blocked: list[str] = []
    console: list[str] = []
    page = await _offline_page(browser, docs_server, blocked, console)
    await page.goto(docs_server + "/redoc")
    await page.wait_for_selector("[data-section-id^='tag/']", timeout=30_000)
    body = await page.inner_text("body")
    assert "Something went wrong" not in body
    assert "Invalid reference" not in body
    # The reply endpoint's request body names the template model that used to dangle.
    reply = "post_reply_api_v1_conversations__conversation_id__messages_post"
    await page.goto(f"{docs_server}/redoc#tag/conversations/operation/{reply}")
    await page.wait_for_selector("text=TemplateSend", timeout=20_000)
    assert blocked == []
    # ReDoc's built-in "API docs by Redocly" badge points at its CDN; the page's policy refuses it (so nothing
    # leaves the machine) and that refusal is the only one allowed.
    badge = "Loading the image 'https://cdn.redoc.ly/redoc/logo-mini.svg' violates"
    problems = [line for line in console if "Content Security Policy" in line or line.startswith("pageerror")]
    assert [line for line in problems if badge not in line] == []
