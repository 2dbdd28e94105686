"""Logging in and out through the login screen, and what a wrong password shows."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.world import World


def test_log_in_see_who_i_am_and_log_out(ui: OpenPage, world: World) -> None:
    session = ui(path="/")
    page = session.page
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Log in to Helpline")).to_be_visible()
    page.get_by_label("E-mail").fill(world.agent.email)
    page.get_by_label("Password").fill(world.agent.password)
    page.get_by_role("button", name="Log in").click()

    banner = page.get_by_role("banner")
    expect(banner.get_by_text(world.agent.name)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("main")).to_be_visible()
    expect(page.get_by_role("listbox", name=re.compile("conversations", re.I))).to_be_visible()
    assert not page.url.endswith("/login")

    banner.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    # The session is really over: the API refuses the cookie, and opening the inbox leads back to the login.
    assert page.request.get(f"{session.base_url}/api/v1/auth/me").status == 401
    session.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_wrong_password_is_said_plainly_and_keeps_the_email(ui: OpenPage, world: World) -> None:
    page = ui(path="/login").page
    page.get_by_label("E-mail").fill(world.agent.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    expect(page.get_by_label("E-mail")).to_have_value(world.agent.email)
    expect(page.get_by_label("Password")).to_be_focused()


def test_login_returns_to_the_bookmarked_screen(ui: OpenPage, world: World) -> None:
    page = ui(path="/preferences").page
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fpreferences$"))
    page.get_by_label("E-mail").fill(world.agent.email)
    page.get_by_label("Password").fill(world.agent.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/preferences$"))
