"""The login screen's second step: the authenticator code, and the enrolment an admin can require."""

from __future__ import annotations

import re
import time
import uuid

import pyotp
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.web.browser.conftest import OpenPage
from tests.web.browser.server import Operator
from tests.web.browser.test_accessibility import serious
from tests.web.browser.world import World


def new_operator(world: World, **fields: object) -> Operator:
    """A fresh agent (the shared personas must keep logging in with a password only)."""
    email = f"2fa-{uuid.uuid4().hex[:8]}@helpline.test"
    created = world.server.ok(
        world.admin,
        "POST",
        "/operators",
        json={"email": email, "name": "Tess Twofactor", "password": PASSWORD, "role": "agent"},
    )
    if fields:
        world.server.ok(world.admin, "PATCH", f"/operators/{created['id']}", json=fields)
    return Operator(id=created["id"], email=email, name="Tess Twofactor", role="agent", token="")


def test_the_code_is_asked_as_a_second_step(ui: OpenPage, world: World) -> None:
    person = new_operator(world)
    token = world.server.login(person.email)
    headers = {"Authorization": f"Bearer {token}"}
    secret = world.server.http.post("/api/v1/auth/two-factor/setup", headers=headers).json()["secret"]
    enabled = world.server.http.post(
        "/api/v1/auth/two-factor/enable", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert enabled.status_code == 200, enabled.text

    session = ui(path="/login")
    page = session.page
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    code = page.get_by_label("Verification code")
    expect(code).to_be_focused()
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    assert serious(page) == []
    code.fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("That code is not valid, or it was already used.")
    expect(code).to_be_focused()

    code.fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("banner").get_by_text(person.name)).to_be_visible()
    assert not page.url.endswith("/login")


def test_required_enrolment_shows_the_key_then_the_recovery_codes_once(ui: OpenPage, world: World) -> None:
    person = new_operator(world, two_factor_required=True)
    session = ui(path="/login", locale="pt-BR")
    page = session.page
    page.get_by_label("E-mail").fill(person.email)
    page.get_by_label("Senha").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()

    expect(page.get_by_role("heading", name="Configure a verificação em duas etapas")).to_be_visible()
    assert serious(page) == []
    key = page.get_by_label("Chave de configuração")
    secret = key.input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Código de verificação").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verificar").click()

    expect(page.get_by_role("heading", name="Guarde seus códigos de recuperação")).to_be_visible()
    codes = page.get_by_role("listitem")
    expect(codes).to_have_count(10)
    assert serious(page) == []
    assert re.fullmatch(r"[0-9a-f]{5}-[0-9a-f]{5}", codes.first.inner_text().strip())
    page.get_by_role("button", name="Continuar").click()
    expect(page.get_by_role("banner").get_by_text(person.name)).to_be_visible()
