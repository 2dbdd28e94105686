"""Admin and supervisor screens in the browser: roles, the channel wizard, operators, the script editor, axe."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.web.browser.conftest import PHONE, OpenPage
from tests.web.browser.world import World

HOSTILE = "<img src=x onerror=alert('admin')>"


def _serious(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_an_agent_has_no_admin_link_and_a_typed_url_says_admins_only(ui: OpenPage, world: World) -> None:
    session = ui(world.agent, path="/admin/channels")
    page = session.page
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Admin")).to_have_count(0)
    # Nothing of the section loaded: the channel list was never asked for.
    assert not [e for e in session.watch.client_errors if "/api/v1/channels" in e]


def test_a_supervisor_sees_only_the_sections_of_their_role(ui: OpenPage, world: World) -> None:
    session = ui(world.operators["supervisor"], path="/admin")
    page = session.page
    menu = page.get_by_role("navigation", name="Administration")
    expect(menu.get_by_role("link", name="Service scripts")).to_be_visible()
    expect(menu.get_by_role("link", name="Audit log")).to_be_visible()
    expect(menu.get_by_role("link", name="Channels")).to_have_count(0)
    expect(menu.get_by_role("link", name="Operators")).to_have_count(0)
    session.goto("/admin/operators")
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()


def test_the_wizard_connects_an_api_channel_and_shows_its_secret_once(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path="/admin/channels")
    page = session.page
    page.get_by_role("link", name="Connect a channel").first.click()
    expect(page.get_by_role("heading", name=re.compile("Step 1 of 6"))).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^API\b")).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name", exact=True).fill(HOSTILE)
    page.get_by_role("button", name="Next").click()
    # Back keeps what was typed, then forward again.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value(HOSTILE)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 3 of 6"))).to_be_visible()
    page.get_by_role("button", name="Create channel").click()

    expect(page.get_by_role("heading", name=re.compile("Step 4 of 6"))).to_be_visible()
    secret = page.get_by_role("textbox", name="Signing secret")
    expect(secret).to_have_value(re.compile(r".{16,}"))
    next_button = page.get_by_role("button", name="Next")
    expect(next_button).to_be_disabled()
    expect(page.get_by_role("textbox", name="Inbound URL")).to_have_value(re.compile(r"/api/v1/channels/\d+/inbound$"))
    page.get_by_label("I have stored it").check()
    expect(next_button).to_be_enabled()
    next_button.click()

    expect(page.get_by_role("heading", name=re.compile("Step 6 of 6"))).to_be_visible()
    page.get_by_label(re.compile(world.agent.name)).check()
    page.get_by_role("button", name="Finish").click()
    expect(page).to_have_url(re.compile(r"/admin/channels/\d+$"))
    channel_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name=HOSTILE, exact=True)).to_be_visible()
    channel = world.server.ok(world.admin, "GET", f"/channels/{channel_id}")
    assert channel["name"] == HOSTILE and channel["kind"] == "api"
    assert world.agent.id in channel["member_ids"]
    # Shown once: the channel page never shows the secret again.
    expect(page.get_by_role("textbox", name="Signing secret")).to_have_value("")
    assert page.locator("img[src='x']").count() == 0
    session.goto("/admin/channels")
    expect(page.get_by_role("link", name=re.compile(re.escape(HOSTILE)))).to_be_visible()


def test_whatsapp_credentials_flag_a_phone_number_and_sum_up_the_problems(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path="/admin/channels/new/kind")
    page = session.page
    page.get_by_role("radio", name=re.compile(r"^WhatsApp\b")).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name", exact=True).fill("WhatsApp — Sales")
    page.get_by_role("button", name="Next").click()
    number = page.get_by_label("Phone number ID")
    number.fill("+55 11 91234-5678")
    number.blur()
    expect(page.get_by_text("This looks like the phone number, not its ID", exact=False)).to_be_visible()
    expect(
        page.get_by_text("temporary token on the API Setup page stops working after 24 hours", exact=False)
    ).to_be_visible()
    page.get_by_role("button", name="Create channel").click()
    summary = page.get_by_role("alert").filter(has_text="Fix 2 problems")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(number).to_have_attribute("aria-invalid", "true")
    described = number.get_attribute("aria-describedby") or ""
    assert any("error" in part for part in described.split())
    summary.get_by_role("link", name=re.compile("Access token")).click()
    expect(page.get_by_label("Access token")).to_be_focused()
    # Nothing was created.
    assert not [c for c in world.server.ok(world.admin, "GET", "/channels") if c["name"] == "WhatsApp — Sales"]


def test_an_agent_left_without_channels_gets_the_empty_inbox_warning(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path="/admin/operators/new")
    page = session.page
    warning = page.get_by_text("Their inbox will be empty", exact=False)
    expect(warning).to_be_visible()
    page.get_by_label(re.compile("WhatsApp")).first.check()
    expect(warning).to_be_hidden()
    page.get_by_role("radio", name=re.compile(r"^Supervisor")).check()
    page.get_by_label(re.compile("WhatsApp")).first.uncheck()
    expect(warning).to_be_hidden()  # supervisors see every channel


def test_the_script_editor_counts_examples_moves_steps_and_guards_unsaved_changes(ui: OpenPage, world: World) -> None:
    scripts = world.server.ok(world.admin, "GET", "/scripts")
    target = next(s for s in scripts if len(s["definition"]["steps"]) >= 2)
    first, second = (s["question"] for s in target["definition"]["steps"][:2])
    session = ui(world.admin, path=f"/admin/scripts/{target['id']}")
    page = session.page
    expect(page.get_by_role("heading", name=target["name"], level=1)).to_be_visible()
    count = len(target["definition"]["examples"])
    page.get_by_label("Add example").fill(HOSTILE)
    page.get_by_label("Add example").press("Enter")
    expect(page.get_by_role("list", name="Example phrasings").get_by_text(HOSTILE, exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(rf"\b{count + 1} examples\b"))).to_be_visible()
    page.get_by_role("button", name="Move step 1 down").click()
    steps = page.get_by_role("list", name="Steps").get_by_role("listitem")
    expect(steps.nth(0)).to_contain_text(second[:20])
    expect(steps.nth(1)).to_contain_text(first[:20])
    expect(page.get_by_text("Unsaved changes", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Audit log").click()
    dialog = page.get_by_role("dialog", name="Leave without saving?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/admin/scripts/{target['id']}$"))
    # Nothing was saved behind the author's back.
    assert (
        world.server.ok(world.admin, "GET", f"/scripts/{target['id']}")["current_version"] == target["current_version"]
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_screens_have_no_serious_accessibility_findings(ui: OpenPage, world: World, scheme: str) -> None:
    session = ui(world.admin, color_scheme=scheme, path="/admin/channels/new/kind")
    page = session.page
    expect(page.get_by_role("heading", name=re.compile("Step 1 of 6"))).to_be_visible()
    assert _serious(page) == []
    page.get_by_role("radio", name=re.compile(r"^WhatsApp\b")).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name", exact=True).fill("Axe check")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Phone number ID")).to_be_visible()
    assert _serious(page) == []
    for path, ready in (
        ("/admin/operators/new", "New operator"),
        ("/admin/try", "Try it"),
        ("/admin/audit", "Audit log"),
    ):
        session.goto(path)
        expect(page.get_by_role("heading", name=ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert _serious(page) == [], path


def test_admin_pages_fit_a_phone(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, viewport=PHONE, path="/admin/channels")
    page = session.page
    expect(page.get_by_role("heading", name="Channels", level=1)).to_be_visible()
    for path in ("/admin/channels", "/admin/operators", "/admin/scripts", "/admin/audit"):
        session.goto(path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"


def test_the_try_console_shows_a_match_and_steps_through_the_script(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path="/admin/try")
    page = session.page
    console = page.get_by_role("region", name="Try it")
    console.get_by_label("Customer message").fill("I had an accident with my car and want to open a claim")
    console.get_by_role("button", name="Try", exact=True).click()
    expect(console.get_by_text(re.compile(r'^Starts the script "'))).to_be_visible()
    expect(console.get_by_role("img", name=re.compile(r"\d+% · (High|Medium|Low)")).first).to_be_visible()
    expect(console.locator(".bubble-bot").first).not_to_be_empty()
    # The returned state goes back with the next message: the script goes on.
    console.get_by_label("Customer message").fill("no idea")
    console.get_by_role("button", name="Try", exact=True).click()
    expect(console.get_by_text(re.compile(r"asks again|goes on with|Completes|Hands over"))).to_be_visible()
    console.get_by_role("button", name="Start over").click()
    expect(console.get_by_role("button", name="Start over")).to_have_count(0)


def test_the_docked_console_evaluates_the_unsaved_draft(ui: OpenPage, world: World) -> None:
    scripts = world.server.ok(world.admin, "GET", "/scripts")
    target = next(s for s in scripts if s["definition"]["languages"][0] == "en")
    phrase = "my parrot ate the garden gnome"
    session = ui(world.admin, path=f"/admin/scripts/{target['id']}")
    page = session.page
    for i in range(3):
        page.get_by_label("Add example").fill(f"{phrase} {i}")
        page.get_by_label("Add example").press("Enter")
    console = page.get_by_role("complementary", name="Try it")
    console.get_by_label("Customer message").fill(phrase)
    console.get_by_role("button", name="Try", exact=True).click()
    expect(console.get_by_text(f'Starts the script "{target["name"]}"')).to_be_visible()
    expect(console.get_by_text("Matched your unsaved draft.")).to_be_visible()
    # Still unsaved: the server's script did not change.
    assert (
        world.server.ok(world.admin, "GET", f"/scripts/{target['id']}")["current_version"] == target["current_version"]
    )
