"""Working a conversation: take over, reply with a file and watch it delivered, hand back, send a template."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from tests.web.browser.conftest import OpenPage
from tests.web.browser.conversation import bot_bubbles, bubble, open_conversation, timeline
from tests.web.browser.test_accessibility import THEMES, assert_accessible
from tests.web.browser.world import World


def choice(picker: Locator, name: str) -> Locator:
    """A template in the picker's list (an option of its listbox, or a button in a plain list)."""
    pattern = re.compile(rf"^{name}\b")
    return picker.get_by_role("option", name=pattern).or_(picker.get_by_role("button", name=pattern))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_take_over_and_reply_with_a_file_that_gets_delivered(
    ui: OpenPage, world: World, cast: dict[str, Any], tmp_path: Path
) -> None:
    page = ui(world.agent).page
    main = open_conversation(page, "Ana Souza")
    expect(main.get_by_role("button", name="Take over")).to_be_visible()
    main.get_by_role("button", name="Take over").click()
    expect(main.get_by_role("button", name="Hand back")).to_be_visible()
    # The takeover is part of the story the timeline tells.
    expect(timeline(page).get_by_role("article", name=re.compile(r"^You took over"))).to_be_visible()

    attachment = tmp_path / "claim-form.pdf"
    attachment.write_bytes(PDF)
    reply = "Recebi o seu pedido — segue o formulário do sinistro."
    page.get_by_role("textbox", name="Reply").fill(reply)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").first.click()
    chooser.value.set_files(attachment)
    expect(main.get_by_text("claim-form.pdf").first).to_be_visible()
    page.get_by_role("button", name="Send").click()

    sent = bubble(page, reply)
    expect(sent).to_be_visible()
    expect(sent.get_by_role("link", name=re.compile("claim-form.pdf"))).to_be_visible()
    expect(page.get_by_role("textbox", name="Reply")).to_have_value("")
    # The ticks move as the provider reports: sent, then delivered (the sandbox answers after ~1 s), then read.
    expect(sent.get_by_text(re.compile(r"^(Delivered|Read)$"))).to_be_visible(timeout=15_000)
    ana = world.user_id("whatsapp", "Ana Souza")
    documents = [s for s in world.server.sandbox.sent if s.recipient == ana and s.body.get("type") == "document"]
    assert documents and documents[-1].body["document"].get("filename") == "claim-form.pdf", documents


def test_hand_back_and_the_bot_answers_the_next_message(ui: OpenPage, world: World, cast: dict[str, Any]) -> None:
    emma = cast["emma"]["id"]
    world.server.ok(world.agent, "POST", f"/conversations/{emma}/takeover")
    page = ui(world.agent).page
    main = open_conversation(page, "Emma Wilson")
    main.get_by_role("button", name="Hand back").click()
    confirm = page.get_by_role("dialog", name="Hand back")
    expect(confirm).to_contain_text("The bot will answer the next customer message.")
    confirm.get_by_role("button", name="Hand back", exact=True).click()
    expect(main.get_by_role("button", name="Take over")).to_be_visible()
    expect(timeline(page).get_by_role("article", name=re.compile(r"^You handed back to the bot"))).to_be_visible()
    answered = bot_bubbles(page).count()

    world.customer_says("whatsapp", "Emma Wilson", "My order number is 48213")
    expect(bubble(page, "My order number is 48213")).to_be_visible()
    expect(bot_bubbles(page)).to_have_count(answered + 1)
    expect(bot_bubbles(page).last).to_contain_text("step 2 of 2")  # the script went on from where it was


def test_a_completed_script_shows_its_case_at_the_top_of_the_bot_panel(
    ui: OpenPage, world: World, cast: dict[str, Any]
) -> None:
    emma = cast["emma"]["id"]
    world.server.ok(world.agent, "POST", f"/conversations/{emma}/takeover")
    world.server.ok(world.agent, "POST", f"/conversations/{emma}/handback")
    page = ui(world.agent).page
    main = open_conversation(page, "Emma Wilson")
    world.customer_says("whatsapp", "Emma Wilson", "My order number is 48213")
    expect(bot_bubbles(page).last).to_contain_text("e-mail")
    world.customer_says("whatsapp", "Emma Wilson", "emma.wilson@example.com")
    # The order-status script ends with a case: a person now has it, with what the customer told the bot.
    expect(main.get_by_role("button", name="Take over")).to_have_count(0, timeout=15_000)
    main.get_by_role("tab", name="Bot").click()
    card = main.get_by_role("tabpanel", name="Bot").locator(".handoff-card")
    expect(card).to_contain_text("Case: Order status")
    expect(card).to_contain_text("And the e-mail address you ordered with?")
    expect(card).to_contain_text("emma.wilson@example.com")
    # Each answer sits under its question, as wide as the card: beside a long question it was squeezed to a
    # letter per line.
    answer = card.locator("dd", has_text="emma.wilson@example.com")
    card_box, answer_box = card.bounding_box(), answer.bounding_box()
    assert card_box is not None and answer_box is not None
    assert answer_box["width"] > 0.7 * card_box["width"], (answer_box, card_box)


def test_closed_window_composer_offers_a_template_and_sends_it(
    ui: OpenPage, world: World, cast: dict[str, Any]
) -> None:
    page = ui(world.agent).page
    main = open_conversation(page, "Liam Carter")
    # Plainly said, and no free-text send that would silently fail.
    expect(main.get_by_text(re.compile(r"window closed", re.I)).first).to_be_visible()
    expect(page.get_by_role("textbox", name="Reply")).to_have_count(0)
    choose = main.get_by_role("button", name="Choose template")
    expect(choose).to_be_visible()
    choose.click()

    picker = page.get_by_role("region", name="Choose a template")
    picker.get_by_role("combobox").or_(picker.get_by_role("searchbox")).first.fill("order")
    expect(choice(picker, "hello_world")).to_have_count(0)
    choice(picker, "order_update").click()
    send = picker.get_by_role("button", name="Send template")
    expect(send).to_be_disabled()  # every slot must be filled first
    picker.get_by_role("textbox", name=re.compile(r"^Body \{\{1\}\}")).fill("Liam")
    picker.get_by_role("textbox", name=re.compile(r"^Body \{\{2\}\}")).fill("48213")
    expect(picker.get_by_text("Hi Liam, your order 48213 is on its way.")).to_be_visible()  # the live preview
    expect(send).to_be_enabled()
    send.click()

    sent = timeline(page).get_by_role("article").filter(has_text=re.compile(r"Template: order_update"))
    expect(sent).to_be_visible()
    expect(sent.get_by_text(re.compile(r"^(Sent|Delivered|Read)$"))).to_be_visible(timeout=15_000)
    liam = world.user_id("whatsapp", "Liam Carter")
    templates = [s for s in world.server.sandbox.sent if s.recipient == liam and s.body.get("type") == "template"]
    assert templates and templates[-1].body["template"]["name"] == "order_update", templates


@pytest.mark.parametrize("scheme", THEMES)
def test_conversation_screen_and_open_template_picker_are_accessible(
    ui: OpenPage, world: World, cast: dict[str, Any], scheme: str
) -> None:
    page = ui(world.admin, color_scheme=scheme).page
    main = open_conversation(page, "Emma Wilson")
    expect(timeline(page).get_by_role("article").first).to_be_visible()
    assert_accessible(page, scheme)
    main = open_conversation(page, "Liam Carter")
    main.get_by_role("button", name="Choose template").click()
    picker = page.get_by_role("region", name="Choose a template")
    expect(choice(picker, "order_update")).to_be_visible()
    assert_accessible(page, scheme)
