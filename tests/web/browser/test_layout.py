"""Every main screen fits a phone (375 px) without sideways scrolling, and the login page is quiet in the console."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.world import World

PHONE_375 = {"width": 375, "height": 740}
# What sticks out past the right edge, for a readable failure.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5 && e.getClientRects().length)
  .slice(0, 5)
  .map((e) => `${e.tagName.toLowerCase()}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`)"""


def assert_fits(page: Page, screen: str) -> None:
    page.wait_for_load_state("networkidle")
    width, inner = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{screen}: scrollWidth {width} > innerWidth {inner}: {page.evaluate(OVERFLOWING)}"


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_no_main_screen_scrolls_sideways_at_375_px(
    ui: OpenPage, world: World, cast: dict[str, dict[str, Any]], locale: str
) -> None:
    login = ui(viewport=PHONE_375, locale=locale, path="/login").page
    expect(login.locator("#login-heading")).to_be_visible()
    assert_fits(login, "login")

    session = ui(world.admin, viewport=PHONE_375, locale=locale, path="/")
    page = session.page
    expect(page.get_by_role("listbox")).to_be_visible()
    assert_fits(page, "inbox")
    # The topbar's last control (Log out) is fully on screen, not just "not scrolling".
    logout = page.get_by_role("banner").get_by_role("button", name=re.compile("Log out|Sair"))
    box = logout.bounding_box()
    assert box and box["x"] + box["width"] <= PHONE_375["width"]

    session.goto(f"/conversations/{cast['ana']['id']}")
    expect(page.get_by_role("heading", level=2, name="Ana Souza", exact=True)).to_be_visible()
    assert_fits(page, "conversation")
    for path in ("/preferences", "/admin/channels", "/admin/operators", "/admin/scripts", "/admin/audit", "/nowhere"):
        session.goto(path)
        expect(page.locator("h1, h2").first).to_be_visible()
        assert_fits(page, path)


def test_the_login_page_logs_nothing_and_requests_nothing_that_fails(ui: OpenPage) -> None:
    session = ui(path="/login")
    page = session.page
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Not even the browser's own "Failed to load resource" line for a 401 (the Watch lets those through).
    assert session.watch.console_errors == []
    assert session.watch.client_errors == []


@pytest.mark.parametrize("path", ["/", "/conversations/1", "/admin/channels", "/sandbox/widget-site"])
def test_a_logged_out_visitor_reaches_the_login_page_without_a_failed_request(ui: OpenPage, path: str) -> None:
    # Every screen (the server sends logged-out visitors to /login: no /auth/me probe answering 401), and the
    # sandbox's sample site, whose /favicon.ico the browser asks for on its own.
    session = ui(path=path)
    page = session.page
    if path.startswith("/sandbox"):
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    else:
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # the favicon request comes after the load
    assert session.watch.console_errors == []
    assert session.watch.client_errors == []


def test_a_logged_in_operator_opening_the_login_page_goes_on(ui: OpenPage, world: World) -> None:
    session = ui(world.agent, path="/login?next=%2Fpreferences")
    expect(session.page).to_have_url(re.compile(r"/preferences$"))
    assert session.watch.client_errors == []


def test_an_unknown_address_shows_the_404_page_with_a_way_back(ui: OpenPage, world: World) -> None:
    session = ui(world.agent, path="/nonexistent", locale="pt-BR")
    page = session.page
    expect(page.get_by_role("heading", level=1, name="Esta página não existe")).to_be_visible()
    page.get_by_role("link", name="Voltar à caixa de entrada").click()
    expect(page.get_by_role("listbox")).to_be_visible()
    assert [e for e in session.watch.client_errors if "/nonexistent" not in e] == []


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_a_checkbox_and_its_label_share_a_row_on_a_phone(ui: OpenPage, world: World, locale: str) -> None:
    """A long label (pt-BR runs 20 to 30 % longer) wraps beside its box, never onto the line below it."""
    page = ui(world.admin, viewport=PHONE_375, locale=locale, path="/preferences").page
    boxes = page.locator(".field.checkbox > input[type=checkbox]")
    expect(boxes.first).to_be_visible()
    rows = page.evaluate(
        """() => [...document.querySelectorAll('.field.checkbox > input[type=checkbox]')].map((box) => {
          const label = document.querySelector(`label[for="${box.id}"]`).getBoundingClientRect();
          const own = box.getBoundingClientRect();
          return { id: box.id, beside: label.left >= own.right && label.top < own.bottom };
        })"""
    )
    assert rows and all(row["beside"] for row in rows), rows
