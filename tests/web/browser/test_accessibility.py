"""axe-core (axe-playwright-python) in Chromium: no serious or critical violations on the main screens, both themes.

The conversation screen and the open template picker are checked in test_conversation.py, next to their flows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.web.browser.conftest import OpenPage, Session
from tests.web.browser.inbox import row
from tests.web.browser.world import World

AXE = Axe()
THEMES = ["light", "dark"]


def assert_accessible(page: Page, scheme: str) -> None:
    """Both themes really apply (the app follows the system's colour scheme), <html lang> is set, axe is quiet."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
    assert re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", page.evaluate("() => document.documentElement.lang"))
    assert serious(page) == []


def serious(page: Page) -> list[str]:
    """Serious and critical axe findings, one line each (rule, impact, what, where)."""
    results = AXE.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found


def login_screen(session: Session, world: World) -> None:
    session.goto("/login")
    expect(session.page.get_by_role("button", name="Log in")).to_be_visible()


def inbox_screen(session: Session, world: World) -> None:
    session.goto("/")
    expect(row(session.page, "Ana Souza")).to_be_visible()


def channel_wizard(session: Session, world: World) -> None:
    session.goto("/admin/channels/new/kind")
    expect(session.page.get_by_role("main").get_by_role("heading").first).to_be_visible()
    expect(session.page.get_by_text("WhatsApp").first).to_be_visible()


def try_console(session: Session, world: World) -> None:
    session.goto("/admin/try")
    session.page.get_by_label("Customer message").fill("Hi, I need to file a claim for my car")
    session.page.get_by_role("button", name="Try").click()
    expect(session.page.get_by_text("The bot would send")).to_be_visible()


SCREENS: dict[str, tuple[Callable[[Session, World], None], bool]] = {
    # name: (how to get there, logged in?)
    "login": (login_screen, False),
    "inbox": (inbox_screen, True),
    "channel wizard": (channel_wizard, True),
    "try-it console": (try_console, True),
}


@pytest.mark.parametrize("scheme", THEMES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_no_serious_or_critical_axe_findings(
    ui: OpenPage, world: World, cast: dict[str, Any], screen: str, scheme: str
) -> None:
    reach, logged_in = SCREENS[screen]
    session = ui(world.admin if logged_in else None, color_scheme=scheme, path=None)
    reach(session, world)
    assert_accessible(session.page, scheme)
