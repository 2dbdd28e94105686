"""A channel that needs re-authorising: admins see a banner above the inbox with the provider's reason and a link to
fix it; agents of that channel a neutral notice; operators of other channels nothing. Dismissible from the keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from helpline.channels.actions import mark_needs_reauth
from tests.web.browser.conftest import OpenPage
from tests.web.browser.world import World

REASON = "Graph error 190: the access token expired <script>alert(1)</script>"


@pytest.fixture(scope="module")
def broken(world: World, cast: dict[str, dict[str, Any]]) -> int:
    channel_id = world.channels["whatsapp"]
    runtime = world.server.runtime

    async def flag() -> None:
        async with runtime.db.transaction() as session:
            await mark_needs_reauth(session, channel_id, REASON)

    world.server.call(flag)
    return channel_id


def test_admins_get_the_reason_and_a_way_to_fix_it_and_may_dismiss_it(ui: OpenPage, world: World, broken: int) -> None:
    session = ui(world.admin, path="/")
    page = session.page
    notices = page.get_by_role("region", name="Channel notices")
    expect(notices).to_be_visible()
    channel = world.server.ok(world.admin, "GET", f"/channels/{broken}")["name"]
    expect(notices).to_contain_text(f"{channel} needs to be re-authorised")
    expect(notices).to_contain_text(f"Provider's answer: {REASON}")  # as text: the <script> is characters
    assert page.locator(".channel-notices script").count() == 0
    fix = notices.get_by_role("link", name=f"Fix {channel} in its settings")
    expect(fix).to_have_attribute("href", f"/admin/channels/{broken}?fix=1")

    # Keyboard: Tab reaches the link and the dismiss button; Enter dismisses; it stays dismissed after a reload.
    dismiss = notices.get_by_role("button", name=f"Dismiss the notice about {channel}")
    dismiss.focus()
    page.keyboard.press("Enter")
    expect(notices).to_be_hidden()
    expect(page.locator("#main")).to_be_focused()
    session.goto("/")
    expect(page.get_by_role("listbox")).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("region", name="Channel notices")).to_be_hidden()

    # The link leads to the channel's settings.
    page.evaluate("() => localStorage.removeItem('helpline:reauth-dismissed')")
    session.goto("/")
    page.get_by_role("region", name="Channel notices").get_by_role("link", name=re.compile("Fix")).click()
    expect(page).to_have_url(re.compile(rf"/admin/channels/{broken}\?fix=1$"))


def test_agents_get_a_neutral_notice_in_their_language_and_others_nothing(
    ui: OpenPage, world: World, broken: int
) -> None:
    channel = world.server.ok(world.admin, "GET", f"/channels/{broken}")["name"]
    page = ui(world.agent, path="/", locale="pt-BR", viewport={"width": 375, "height": 740}).page
    notices = page.get_by_role("region", name="Avisos de canais")
    expect(notices).to_contain_text(f"{channel} está desconectado por enquanto")
    expect(notices).not_to_contain_text("Graph error")  # the provider's words are for admins
    expect(notices.get_by_role("link")).to_have_count(0)
    width, inner = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner

    outsider = ui(world.outsider, path="/").page
    expect(outsider.get_by_role("listbox")).to_be_visible()
    outsider.wait_for_load_state("networkidle")
    expect(outsider.get_by_role("region", name="Channel notices")).to_be_hidden()
