"""'Customer is typing' end to end: the website visitor types in the widget, the operator's conversation view says
so within seconds, and the line goes away 5 s after the typing stops or at once when the message arrives."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.test_widget import Site, embed, make_widget, site  # noqa: F401 (the site fixture)
from tests.web.browser.world import World


def test_the_visitors_typing_shows_in_the_operators_conversation_and_expires(
    ui: OpenPage,
    world: World,
    site: Site,  # noqa: F811
) -> None:
    channel_id = make_widget(world, site, bot_enabled=False)
    visitor = ui(None, path=None).page
    visitor.goto(embed(site, "typing.html", world.server.base_url, channel_id))
    visitor.get_by_role("button", name="Open chat").click()
    visitor.get_by_label("Name").fill("Rita Typist")
    visitor.get_by_role("button", name="Start chat").click()
    box = visitor.get_by_role("textbox", name="Message")
    box.fill("Hello, anyone there?")
    box.press("Enter")
    expect(visitor.locator(".msg.visitor", has_text="Hello, anyone there?")).to_be_visible()
    conversation = world.server.until(
        lambda: next(
            iter(world.server.ok(world.admin, "GET", "/conversations", params={"channel_id": channel_id})["items"]),
            None,
        ),
        what="the widget conversation",
    )

    operator = ui(world.admin, path=f"/conversations/{conversation['id']}").page
    expect(operator.get_by_role("heading", level=2, name="Rita Typist")).to_be_visible()
    operator.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    line = operator.get_by_role("status").filter(has_text=re.compile("typing"))
    expect(operator.get_by_text("Rita Typist is typing…")).to_have_count(0)

    box.press_sequentially("I have a ques", delay=40)
    expect(operator.get_by_text("Rita Typist is typing…")).to_be_visible(timeout=5000)
    stopped = time.monotonic()
    # No more keys: gone about 5 s later (the widget repeats its signal every 2 s while typing).
    expect(line).to_have_count(0, timeout=9000)
    assert time.monotonic() - stopped >= 2.5, "the line must outlive a short pause"

    # Typing again, then sending: the message replaces the line at once.
    box.press_sequentially("tion", delay=40)
    expect(operator.get_by_text("Rita Typist is typing…")).to_be_visible(timeout=5000)
    box.press("Enter")
    expect(operator.get_by_role("feed").get_by_text("I have a question")).to_be_visible()
    expect(operator.get_by_text("Rita Typist is typing…")).to_have_count(0)


def test_the_line_is_in_both_languages_and_another_operators_typing_shows_too(
    ui: OpenPage, world: World, cast: dict[str, dict[str, object]]
) -> None:
    ana = cast["ana"]["id"]
    page = ui(world.admin, path=f"/conversations/{ana}", locale="pt-BR").page
    expect(page.get_by_role("heading", level=2, name="Ana Souza")).to_be_visible()
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    world.server.ok(world.agent, "POST", f"/conversations/{ana}/typing")
    expect(page.get_by_text(f"{world.agent.name} está digitando…")).to_be_visible()
    # My own typing (echoed to my channel) is never shown to me.
    world.server.ok(world.admin, "POST", f"/conversations/{ana}/typing")
    page.wait_for_timeout(500)
    expect(page.get_by_text(f"{world.admin.name} está digitando…")).to_have_count(0)
