"""Screenshots of the main screens on a stable demo story, light and dark, plus a phone-width pair.

Every run renders and captures them (a screen that fails to show fails the test). They are written to
docs/screenshots/ — the images README.md shows — when HELPLINE_SCREENSHOTS=1 (`make screenshots`), and to the
test's temporary directory otherwise, so an ordinary `make test` leaves the working tree clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.browser.conftest import PHONE, OpenPage
from tests.web.browser.conversation import open_conversation, timeline
from tests.web.browser.inbox import row
from tests.web.browser.world import World

REPOSITORY = Path(__file__).resolve().parents[3]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def story(world: World, cast: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Beyond the cast: a claim the bot walks through, an escalation, an operator's reply with a file."""
    server, agent = world.server, world.agent
    ana = cast["ana"]["id"]
    for text in ("Minha apólice é AUT-2291-7", "Foi ontem à noite, 12 de maio"):
        world.bot_answered(ana)
        world.customer_says("whatsapp", "Ana Souza", text)
    world.bot_answered(ana)
    server.ok(agent, "POST", f"/conversations/{ana}/takeover")
    server.ok(
        agent,
        "POST",
        f"/conversations/{ana}/messages",
        data={"text": "Olá Ana, sou o Alex. Já abri o seu sinistro; segue o protocolo em anexo."},
        files={"files": ("protocolo-sinistro.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    world.customer_says("instagram", "Giulia Rossi", "Voglio parlare con una persona, per favore")
    world.customer_says("whatsapp", "Emma Wilson", "My order number is 48213")
    world.bot_answered(cast["emma"]["id"])
    return cast


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("HELPLINE_SCREENSHOTS") == "1":
        target = REPOSITORY / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


def capture(page: Page, path: Path) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready")
    page.screenshot(path=path, animations="disabled", caret="initial")
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000, f"{path.name} looks empty"


def login(page: Page, world: World) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(world.agent.email)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def inbox(page: Page, world: World) -> None:
    page.goto("/")
    expect(row(page, "Ana Souza")).to_be_visible()


def conversation(page: Page, world: World) -> None:
    page.goto("/")
    open_conversation(page, "Ana Souza")
    expect(timeline(page).get_by_role("link", name="protocolo-sinistro.pdf")).to_be_visible()


def template_picker(page: Page, world: World) -> None:
    page.goto("/")
    main = open_conversation(page, "Liam Carter")
    main.get_by_role("button", name="Choose template").click()
    picker = page.get_by_role("region", name="Choose a template")
    picker.get_by_role("combobox").or_(picker.get_by_role("searchbox")).first.fill("order")
    order = re.compile(r"^order_update\b")
    picker.get_by_role("option", name=order).or_(picker.get_by_role("button", name=order)).click()
    picker.get_by_role("textbox", name=re.compile(r"^Body \{\{1\}\}")).fill("Liam")
    expect(picker.get_by_role("button", name="Send template")).to_be_disabled()


def bot_panel(page: Page, world: World) -> None:
    page.goto("/")
    main = open_conversation(page, "Emma Wilson")
    main.get_by_role("tab", name="Bot").click()
    expect(main.get_by_role("tabpanel", name="Bot")).to_contain_text("Order status")


def channel_wizard(page: Page, world: World) -> None:
    page.goto("/admin/channels/new/kind")
    expect(page.get_by_text("WhatsApp").first).to_be_visible()


def try_console(page: Page, world: World) -> None:
    page.goto("/admin/try")
    page.get_by_label("Customer message").fill("Hi, I need to file a claim for my car")
    page.get_by_role("button", name="Try").click()
    expect(page.get_by_text("The bot would send")).to_be_visible()


SCREENS: dict[str, Callable[[Page, World], None]] = {
    "inbox": inbox,
    "conversation": conversation,
    "template-picker": template_picker,
    "bot-panel": bot_panel,
    "channel-wizard": channel_wizard,
    "try-it": try_console,
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_main_screens(
    ui: OpenPage, world: World, story: dict[str, Any], shots: Path, scheme: str
) -> None:
    anonymous = ui(color_scheme=scheme, path=None).page
    login(anonymous, world)
    capture(anonymous, shots / f"login-{scheme}.png")
    page = ui(world.admin, color_scheme=scheme, path=None).page
    for name, reach in SCREENS.items():
        reach(page, world)
        capture(page, shots / f"{name}-{scheme}.png")


def test_screenshots_at_phone_width(ui: OpenPage, world: World, story: dict[str, Any], shots: Path) -> None:
    page = ui(world.agent, viewport=PHONE, path="/").page
    expect(row(page, "Ana Souza")).to_be_visible()
    capture(page, shots / "phone-list.png")
    open_conversation(page, "Ana Souza")
    expect(row(page, "Ana Souza")).to_be_hidden()  # list and conversation are two screens on a phone
    capture(page, shots / "phone-conversation.png")
