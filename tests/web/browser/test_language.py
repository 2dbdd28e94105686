"""Brazilian Portuguese: switching relabels in place without losing state, <html lang> follows, and it sticks."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.inbox import conversation_list, row
from tests.web.browser.world import World


def test_switch_to_portuguese_keeps_the_place_and_sticks(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    supervisor = world.operators["supervisor"]
    session = ui(supervisor, path="/?kind=whatsapp")
    page = session.page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    row(page, "Ana Souza").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{cast['ana']['id']}\?kind=whatsapp$"))
    inbox_url = page.url

    page.get_by_role("banner").get_by_role("link", name="Preferences").click()
    language = page.get_by_label("Language")
    expect(language).to_be_visible()
    language.select_option(label="Português (Brasil)")
    # Relabelled in place: same page, same document, Portuguese words, <html lang> updated.
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(page.get_by_role("banner").get_by_role("button", name="Sair")).to_be_visible()
    expect(page.get_by_label("Idioma")).to_have_value("pt-BR")
    assert page.url.endswith("/preferences")
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1

    # Back where the operator was: the filter and the open conversation, now in Portuguese.
    page.go_back()
    expect(page).to_have_url(inbox_url)
    expect(row(page, "Ana Souza", label="Conversas")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("main").get_by_role("heading", name="Ana Souza", exact=True)).to_be_visible()
    expect(row(page, "Noah Davis", label="Conversas")).to_have_count(0)
    # Words outside the banner follow too (the skip link, the notifications region).
    expect(page.get_by_role("link", name="Pular para o conteúdo")).to_have_count(1)
    expect(page.get_by_role("region", name="Notificações")).to_have_count(1)

    # The choice is the operator's, kept by the server: a fresh browser opens in Portuguese.
    fresh = ui(supervisor, path="/").page
    expect(fresh.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(conversation_list(fresh, "Conversas")).to_be_visible()
    expect(fresh.get_by_role("banner").get_by_role("button", name="Sair")).to_be_visible()


def test_login_screen_follows_the_browsers_language(ui: OpenPage, world: World) -> None:
    page = ui(locale="pt-BR", path="/login").page
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
