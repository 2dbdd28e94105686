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
    heading = page.get_by_role("heading", name="Admins only")
    expect(heading).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Admin")).to_have_count(0)
    # Laid out across the whole page, centred (not squeezed into the hidden menu's column).
    state = page.locator(".empty-page")
    outlet = page.locator(".admin")
    box, whole, title = state.bounding_box(), outlet.bounding_box(), heading.bounding_box()
    assert box and whole and title
    assert box["width"] >= whole["width"] - 2, (box, whole)
    assert abs((title["x"] + title["width"] / 2) - (whole["x"] + whole["width"] / 2)) < 4, (title, whole)
    assert title["y"] > whole["y"] + whole["height"] / 4  # vertically centred too, not stuck at the top
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


def test_a_channel_needing_reauthorisation_is_loud_and_fix_leads_to_the_token(ui: OpenPage, world: World) -> None:
    from helpline.channels.actions import mark_needs_reauth

    channel = world.server.ok(
        world.admin,
        "POST",
        "/channels",
        json={
            "kind": "messenger",
            "name": "Page to fix",
            "settings": {"page_id": "4242"},
            "credentials": {"access_token": "old-token-123"},
        },
    )
    reason = f"Meta error 190: the session has expired {HOSTILE}"

    async def expire() -> None:
        async with world.server.runtime.db.transaction() as session:
            await mark_needs_reauth(session, channel["id"], reason)

    world.server.call(expire)
    session = ui(world.admin, path="/admin/channels")
    page = session.page
    expect(page.get_by_role("alert").filter(has_text="needs re-authorisation")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Page to fix")
    expect(row.get_by_text("Needs re-authorisation")).to_be_visible()
    expect(row.get_by_text(reason, exact=True)).to_be_visible()
    row.get_by_role("link", name="Fix Page to fix", exact=True).click()
    token = page.get_by_label("Access token")
    expect(token).to_be_focused()
    token.fill("new-token-456789")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    fixed = world.server.ok(world.admin, "GET", f"/channels/{channel['id']}")
    assert fixed["status"] == "active" and fixed["status_reason"] is None


def test_a_failed_load_says_so_and_try_again_recovers(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path=None)
    page = session.page
    page.route("**/api/v1/scripts", lambda route: route.abort())
    session.goto("/admin/scripts")
    alert = page.get_by_role("alert").filter(has_text="Couldn't load the scripts")
    expect(alert).to_contain_text("the server didn't answer")
    page.unroute("**/api/v1/scripts")
    alert.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Couldn't load")).to_have_count(0)


def test_audit_filters_live_in_the_url_and_an_empty_result_says_why(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path="/admin/audit?target_type=operator")
    page = session.page
    expect(page.get_by_label("Target type")).to_have_value("operator")
    expect(page.get_by_role("row").filter(has_text="Operator created").first).to_be_visible()
    action = page.get_by_label("Action")
    action.fill("no.such_action")
    action.press("Enter")
    expect(page).to_have_url(re.compile(r"action=no\.such_action"))
    expect(page.get_by_text("No entries match these filters")).to_be_visible()
    page.get_by_role("link", name="Clear filters").first.click()
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    expect(page.get_by_role("row").nth(1)).to_be_visible()


def test_saving_a_script_lists_step_problems_then_versions_restore(ui: OpenPage, world: World) -> None:
    created = world.server.ok(
        world.admin,
        "POST",
        "/scripts",
        json={
            "key": "browser_versions",
            "name": "Versioned",
            "examples": ["versioned one", "versioned two"],
            "languages": ["en"],
            "steps": [{"key": "first", "question": "Original question?"}],
        },
    )
    session = ui(world.admin, path=f"/admin/scripts/{created['id']}")
    page = session.page
    page.get_by_role("button", name="Add step").click()
    page.get_by_role("button", name="Save as new version").click()
    summary = page.get_by_role("alert").filter(has_text="Fix 1 problem")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Step 2: write the question.").click()
    question = page.get_by_label("Question")
    expect(question).to_be_focused()
    expect(question).to_have_attribute("aria-invalid", "true")
    question.fill("Second question?")
    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    versions = page.get_by_role("region", name="Versions")
    versions.get_by_role("listitem").filter(has_text="Version 1").get_by_role("button", name="Restore").click()
    expect(page.get_by_text("Version 1 was restored into the editor")).to_be_visible()
    expect(page.get_by_role("list", name="Steps").get_by_role("listitem")).to_have_count(1)
    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_text("Saved as version 3.")).to_be_visible()
    saved = world.server.ok(world.admin, "GET", f"/scripts/{created['id']}")
    assert saved["current_version"] == 3
    assert [s["question"] for s in saved["definition"]["steps"]] == ["Original question?"]


def _png(width: int, height: int) -> bytes:
    import struct
    import zlib

    raw = b"".join(b"\x00" + b"\x24\x57\xd6" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_a_logo_is_checked_previewed_on_light_and_dark_then_uploaded(ui: OpenPage, world: World) -> None:
    profile = world.server.ok(world.admin, "POST", "/profiles", json={"name": HOSTILE})
    session = ui(world.admin, path=f"/admin/profiles/profile-{profile['id']}")
    page = session.page
    expect(page.get_by_role("heading", name=HOSTILE, exact=True)).to_be_visible()
    logo = page.get_by_label("Logo", exact=True)
    logo.set_input_files({"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": b"<svg onload='alert(1)'/>"})
    expect(page.get_by_text("Choose a PNG, JPEG or WebP image", exact=False)).to_be_visible()
    expect(logo).to_have_attribute("aria-invalid", "true")
    upload = page.get_by_role("button", name="Upload logo")
    expect(upload).to_be_disabled()
    logo.set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": _png(200, 100)})
    expect(page.get_by_text("It is 200\u00d7100 px", exact=False)).to_be_visible()
    expect(page.get_by_role("img", name="Preview on light")).to_be_visible()
    expect(page.get_by_role("img", name="Preview on dark")).to_be_visible()
    upload.click()
    expect(page.get_by_text("Logo saved.")).to_be_visible()
    saved = world.server.ok(world.admin, "GET", f"/profiles/{profile['id']}")
    assert saved["logo_url"]
    expect(page.locator(f"img[src='{saved['logo_url']}']").first).to_be_visible()


def test_deactivating_an_operator_can_be_undone(ui: OpenPage, world: World) -> None:
    person = world.server.ok(
        world.admin,
        "POST",
        "/operators",
        json={"email": "leaving@example.com", "name": "Lea Leaving", "password": "long-enough-1", "role": "agent"},
    )
    session = ui(world.admin, path=f"/admin/operators/{person['id']}")
    page = session.page
    page.get_by_role("button", name="Deactivate").click()
    row = page.get_by_role("row").filter(has_text="Lea Leaving")
    expect(row.get_by_text("Deactivated")).to_be_visible()
    assert world.server.ok(world.admin, "GET", f"/operators/{person['id']}")["active"] is False
    page.get_by_role("status").filter(has_text="Lea Leaving is deactivated").get_by_role("button", name="Undo").click()
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    assert world.server.ok(world.admin, "GET", f"/operators/{person['id']}")["active"] is True


def test_the_meta_check_lists_each_result_with_its_fix(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path=f"/admin/channels/{world.channels['whatsapp']}")
    page = session.page
    check = page.get_by_role("region", name="Check")
    check.get_by_role("button", name="Run the check").click()
    results = check.get_by_role("listitem")
    expect(results.first).to_be_visible()
    report = world.server.ok(world.admin, "GET", f"/channels/{world.channels['whatsapp']}/doctor")
    expect(results).to_have_count(len(report["checks"]))
    for item in report["checks"]:
        row = results.filter(has_text=item["title"])
        status = {"ok": "Passed", "warn": "Warning", "fail": "Failed"}[item["status"]]
        expect(row.get_by_role("img", name=status)).to_be_visible()
        if item["status"] != "ok":
            expect(row.get_by_text(item["fix"], exact=False)).to_be_visible()
    expect(check.get_by_role("button", name="Check again")).to_be_visible()


def test_an_event_is_created_with_its_dates_checked_in_order(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path="/admin/profiles/new-event")
    page = session.page
    drawer = page.get_by_role("region", name="New event")
    drawer.get_by_label("Name", exact=True).fill("Boat Show <2027>")
    drawer.get_by_label("Starts on").fill("2027-03-10")
    drawer.get_by_label("Ends on").fill("2027-03-01")
    drawer.get_by_role("button", name="Create").click()
    expect(drawer.get_by_role("alert").filter(has_text="Fix 1 problem")).to_be_visible()
    expect(drawer.get_by_label("Ends on")).to_have_attribute("aria-invalid", "true")
    drawer.get_by_label("Ends on").fill("2027-03-14")
    drawer.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/admin/profiles/event-\d+$"))
    row = page.get_by_role("row").filter(has_text="Boat Show <2027>")
    expect(row).to_contain_text("2027")
    event = next(e for e in world.server.ok(world.admin, "GET", "/events") if e["name"] == "Boat Show <2027>")
    assert (event["starts_on"], event["ends_on"]) == ("2027-03-10", "2027-03-14")


def test_the_wizard_connects_an_email_mailbox(ui: OpenPage, world: World) -> None:
    session = ui(world.admin, path="/admin/channels")
    page = session.page
    page.get_by_role("link", name="Connect a channel").first.click()
    page.get_by_role("radio", name=re.compile(r"^E-mail\b")).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name", exact=True).fill("Support mailbox")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 3 of 6"))).to_be_visible()
    page.get_by_label("Mailbox address").fill("not an address")
    page.get_by_label("IMAP server").fill("imap.example.com")
    page.get_by_label("SMTP server").fill("smtp.example.com")
    page.get_by_label("Mailbox address").blur()
    expect(page.get_by_text("An e-mail address, e.g. support@example.com.")).to_be_visible()
    page.get_by_label("Mailbox address").fill("support@example.com")
    page.get_by_label("SMTP security").select_option("tls")
    page.get_by_label("SMTP port").fill("465")
    page.get_by_label(re.compile(r"^Password")).fill("app-password-123")
    page.get_by_role("button", name="Create channel").click()

    expect(page.get_by_role("heading", name=re.compile("Step 4 of 6"))).to_be_visible()
    expect(page.get_by_text(re.compile("read support@example.com over IMAP"))).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 6 of 6"))).to_be_visible()
    page.get_by_role("button", name="Finish").click()
    expect(page).to_have_url(re.compile(r"/admin/channels/\d+$"))
    channel_id = int(page.url.rsplit("/", 1)[1])
    channel = world.server.ok(world.admin, "GET", f"/channels/{channel_id}")
    assert channel["kind"] == "email" and "credentials" not in channel
    settings = channel["settings"]
    assert (settings["from_address"], settings["smtp_security"], settings["smtp_port"], settings["imap_port"]) == (
        "support@example.com",
        "tls",
        465,
        993,
    )
    assert settings["use_idle"] is True and settings["bot_enabled"] is False
