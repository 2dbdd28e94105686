"""Browser fixtures: Debian's Chromium under Python Playwright, one per session; one demo server per module.

Without a `chromium` on PATH the browser tests skip with the reason, except on CI (HELPLINE_TEST_REQUIRE_SERVICES=1),
where that is a failure: `.ci/run` installs the package. Every page opened through `ui` is watched: a console error,
an uncaught exception, a Content-Security-Policy violation, a 5xx answer or a JavaScript dialog fails the test.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    Response,
    sync_playwright,
)

from tests.conftest import REQUIRE_SERVICES
from tests.web.browser.server import LiveServer, Operator, running
from tests.web.browser.world import World, build_world, populate

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 800}
# Playwright's default waits are 30 s; a healthy page answers in well under a second, so fail sooner.
TIMEOUT_MS = 10_000

# Registered before any page script runs; the binding reaches Python even across navigations.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__helplineCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests and run them last.

    Playwright's sync API keeps its event loop running on the main thread while it is started, so no asyncio test
    or fixture can run on that thread meanwhile; with the browser tests at the end, the session's one browser
    starts after every asyncio test is done.
    """
    here = Path(__file__).parent
    browser_tests = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in browser_tests:
        item.add_marker(pytest.mark.browser)
    chosen = set(map(id, browser_tests))
    items[:] = [item for item in items if id(item) not in chosen] + browser_tests


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "the browser tests need Debian's `chromium` on PATH (apt-get install chromium)"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and HELPLINE_TEST_REQUIRE_SERVICES=1")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def playwright(sqlite_template: Path) -> Iterator[Playwright]:
    # Session fixtures that use asyncio.run (the migrated SQLite template) must exist before Playwright starts.
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[LiveServer]:
    directory = tmp_path_factory.mktemp("browser-server")
    database = directory / "helpline.db"
    shutil.copy(sqlite_template, database)
    with running(directory, f"sqlite+aiosqlite:///{database}") as live:
        yield live


@pytest.fixture(scope="module")
def world(server: LiveServer) -> World:
    return build_world(server)


@pytest.fixture(scope="module")
def cast(world: World) -> dict[str, dict[str, Any]]:
    """The fixed set of conversations (see world.populate), created once per module."""
    return populate(world)


@dataclass
class Watch:
    """What went wrong on a page while a test drove it; `check()` fails on anything not explicitly allowed."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)
    allowed_console: list[re.Pattern[str]] = field(default_factory=list)

    def allow_console(self, pattern: str) -> None:
        """A console error this test causes on purpose (e.g. the browser's own log of a refused connection)."""
        self.allowed_console.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        # Chromium logs every 4xx fetch as "Failed to load resource"; those are in client_errors with their URL, and
        # a test that does not expect them asserts on that list. Anything else logged as an error is a bug.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(
                f"{message.text} ({message.location.get('url')}:{message.location.get('lineNumber')})"
            )

    def on_response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")
        elif response.status >= 400:
            self.client_errors.append(f"{response.status} {response.request.method} {response.url}")

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def check(self) -> None:
        console = [e for e in self.console_errors if not any(p.search(e) for p in self.allowed_console)]
        problems = {
            "console errors": console,
            "uncaught exceptions": self.page_errors,
            "CSP violations": self.csp_violations,
            "JavaScript dialogs": self.dialogs,
            "server errors": self.server_errors,
        }
        found = {name: items for name, items in problems.items() if items}
        assert not found, f"the page misbehaved: {found}"


@dataclass
class Session:
    """A browser context (one operator's cookies and preferences) and its watched page."""

    context: BrowserContext
    page: Page
    watch: Watch
    base_url: str

    def goto(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page


OpenPage = Callable[..., Session]


@pytest.fixture
def ui(browser: Browser, server: LiveServer) -> Iterator[OpenPage]:
    """`ui(operator=None, *, color_scheme="light", viewport=DESKTOP, locale="en-US", path="/")` → Session.

    With an operator the context logs in over the API first (the login screen has its own tests); the page then
    opens `path`. Every page is checked by its Watch when the test ends.
    """
    sessions: list[Session] = []

    def open_page(
        operator: Operator | None = None,
        *,
        color_scheme: str = "light",
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
        path: str | None = "/",
        reduced_motion: str = "reduce",
    ) -> Session:
        context = browser.new_context(
            base_url=server.base_url,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            locale=locale,
            timezone_id="America/Sao_Paulo",
            color_scheme=color_scheme,  # type: ignore[arg-type]
            reduced_motion=reduced_motion,  # type: ignore[arg-type]
        )
        context.set_default_timeout(TIMEOUT_MS)
        watch = Watch()
        context.expose_binding("__helplineCsp", lambda _source, text: watch.csp_violations.append(str(text)))
        context.add_init_script(CSP_LISTENER)
        if operator is not None:
            answer = context.request.post(
                "/api/v1/auth/login", data={"email": operator.email, "password": operator.password}
            )
            assert answer.status == 200, answer.text()
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on("dialog", watch.on_dialog)
        page.on("response", watch.on_response)
        session = Session(context=context, page=page, watch=watch, base_url=server.base_url)
        sessions.append(session)
        if path is not None:
            session.goto(path)
        return session

    yield open_page
    try:
        for session in sessions:
            session.watch.check()
    finally:
        for session in sessions:
            session.context.close()
