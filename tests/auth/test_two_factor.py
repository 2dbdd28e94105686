"""Two-factor authentication: enrolment, the second login step, replay, recovery codes, throttling, admin rules."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp
import pytest

from helpline.runtime import Runtime
from tests.conftest import PASSWORD, World

LOGIN = "/api/v1/auth/login"
SECOND = "/api/v1/auth/login/two-factor"


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


async def enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    setup = await client.post("/api/v1/auth/two-factor/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/Helpline:")
    enabled = await client.post("/api/v1/auth/two-factor/enable", json={"code": code_at(secret)}, headers=headers)
    assert enabled.status_code == 200, enabled.text
    codes: list[str] = enabled.json()["recovery_codes"]
    return secret, codes


async def challenge_for(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "two_factor_required"
    assert "access_token" not in response.text and "helpline_session" not in response.headers.get("set-cookie", "")
    details: dict[str, Any] = error["details"]
    return details


async def test_enrol_then_log_in_with_a_code(client: httpx.AsyncClient, world: World) -> None:
    secret, codes = await enrol(client, world.agent.headers)
    assert len(codes) == 10 and len(set(codes)) == 10
    status = (await client.get("/api/v1/auth/two-factor", headers=world.agent.headers)).json()
    assert status == {"enabled": True, "required": False, "recovery_codes_left": 10}
    me = (await client.get("/api/v1/auth/me", headers=world.agent.headers)).json()
    assert me["two_factor_enabled"] is True

    details = await challenge_for(client, world.agent.email)
    assert details["enrol"] is False and details["expires_in"] == 300
    # The enrolment used this step's code; the next step's code (within the drift window) logs in.
    ok = await client.post(SECOND, json={"challenge": details["challenge"], "code": code_at(secret, 1)})
    assert ok.status_code == 200, ok.text
    token = ok.json()["access_token"]
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_a_code_is_accepted_once(client: httpx.AsyncClient, world: World) -> None:
    secret, _ = await enrol(client, world.agent.headers)
    code = code_at(secret, 1)
    first = await challenge_for(client, world.agent.email)
    assert (await client.post(SECOND, json={"challenge": first["challenge"], "code": code})).status_code == 200
    second = await challenge_for(client, world.agent.email)
    replay = await client.post(SECOND, json={"challenge": second["challenge"], "code": code})
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "bad_two_factor_code"
    # An old step's code is refused too (the accepted step only moves forward).
    old = await client.post(SECOND, json={"challenge": second["challenge"], "code": code_at(secret, 0)})
    assert old.status_code == 401


async def test_recovery_codes_work_once_each(client: httpx.AsyncClient, world: World) -> None:
    _, codes = await enrol(client, world.agent.headers)
    details = await challenge_for(client, world.agent.email)
    ok = await client.post(SECOND, json={"challenge": details["challenge"], "code": codes[0].upper()})
    assert ok.status_code == 200, ok.text
    details = await challenge_for(client, world.agent.email)
    again = await client.post(SECOND, json={"challenge": details["challenge"], "code": codes[0]})
    assert again.status_code == 401
    status = (await client.get("/api/v1/auth/two-factor", headers=world.agent.headers)).json()
    assert status["recovery_codes_left"] == 9


async def test_wrong_codes_are_throttled(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    secret, _ = await enrol(client, world.agent.headers)
    details = await challenge_for(client, world.agent.email)
    limit = runtime.settings.login_max_failures
    for _ in range(limit):
        wrong = await client.post(SECOND, json={"challenge": details["challenge"], "code": "000000"})
        assert wrong.status_code == 401
    locked = await client.post(SECOND, json={"challenge": details["challenge"], "code": code_at(secret, 1)})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


@pytest.mark.parametrize("tamper", ["garbage", "1.1.abc", "other-operator", "expired"])
async def test_a_bad_challenge_is_refused(client: httpx.AsyncClient, world: World, tamper: str) -> None:
    secret, _ = await enrol(client, world.agent.headers)
    challenge = (await challenge_for(client, world.agent.email))["challenge"]
    operator_id, expires, mac = challenge.split(".")
    forged = {
        "garbage": "garbage",
        "1.1.abc": "1.1.abc",
        "other-operator": f"{world.admin.id}.{expires}.{mac}",
        "expired": f"{operator_id}.{int(time.time()) - 1}.{mac}",
    }[tamper]
    response = await client.post(SECOND, json={"challenge": forged, "code": code_at(secret, 1)})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_challenge"


async def test_a_password_change_voids_pending_challenges(client: httpx.AsyncClient, world: World) -> None:
    secret, _ = await enrol(client, world.agent.headers)
    challenge = (await challenge_for(client, world.agent.email))["challenge"]
    changed = await client.patch(
        f"/api/v1/operators/{world.agent.id}", json={"password": "a brand new passphrase"}, headers=world.admin.headers
    )
    assert changed.status_code == 200
    response = await client.post(SECOND, json={"challenge": challenge, "code": code_at(secret, 1)})
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_challenge"


async def test_an_admin_requires_two_factor_and_the_operator_enrols_at_login(
    client: httpx.AsyncClient, world: World
) -> None:
    required = await client.patch(
        f"/api/v1/operators/{world.agent.id}", json={"two_factor_required": True}, headers=world.admin.headers
    )
    assert required.status_code == 200 and required.json()["two_factor_required"] is True
    details = await challenge_for(client, world.agent.email)
    assert details["enrol"] is True
    # Without a code the enrolment cannot be finished...
    early = await client.post(SECOND, json={"challenge": details["challenge"], "code": "123456"})
    assert early.status_code == 401
    setup = await client.post(f"{SECOND}/setup", json={"challenge": details["challenge"]})
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    done = await client.post(SECOND, json={"challenge": details["challenge"], "code": code_at(secret)})
    assert done.status_code == 200, done.text
    assert len(done.json()["recovery_codes"]) == 10
    assert done.json()["operator"]["two_factor_enabled"] is True
    headers = {"Authorization": f"Bearer {done.json()['access_token']}"}
    # ...and it cannot be turned off while required.
    off = await client.post("/api/v1/auth/two-factor/disable", json={"password": PASSWORD}, headers=headers)
    assert off.status_code == 409


async def test_agents_cannot_require_or_reset_two_factor(client: httpx.AsyncClient, world: World) -> None:
    require = await client.patch(
        f"/api/v1/operators/{world.outsider.id}", json={"two_factor_required": True}, headers=world.agent.headers
    )
    assert require.status_code == 403
    reset = await client.delete(f"/api/v1/operators/{world.outsider.id}/two-factor", headers=world.agent.headers)
    assert reset.status_code == 403


async def test_admin_reset_turns_it_off_and_ends_sessions(client: httpx.AsyncClient, world: World) -> None:
    await enrol(client, world.agent.headers)
    reset = await client.delete(f"/api/v1/operators/{world.agent.id}/two-factor", headers=world.admin.headers)
    assert reset.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=world.agent.headers)).status_code == 401
    again = await client.post(LOGIN, json={"email": world.agent.email, "password": PASSWORD})
    assert again.status_code == 200


async def test_turning_it_off_needs_the_password(client: httpx.AsyncClient, world: World) -> None:
    await enrol(client, world.agent.headers)
    wrong = await client.post("/api/v1/auth/two-factor/disable", json={"password": "nope"}, headers=world.agent.headers)
    assert wrong.status_code == 401
    ok = await client.post("/api/v1/auth/two-factor/disable", json={"password": PASSWORD}, headers=world.agent.headers)
    assert ok.status_code == 204
    assert (await client.post(LOGIN, json={"email": world.agent.email, "password": PASSWORD})).status_code == 200


async def test_logins_and_two_factor_changes_are_audited_with_origin(client: httpx.AsyncClient, world: World) -> None:
    secret, _ = await enrol(client, world.agent.headers)
    details = await challenge_for(client, world.agent.email)
    await client.post(
        SECOND, json={"challenge": details["challenge"], "code": "999999"}, headers={"User-Agent": "ua/1"}
    )
    await client.post(
        SECOND, json={"challenge": details["challenge"], "code": code_at(secret, 1)}, headers={"User-Agent": "ua/2"}
    )
    await client.post(LOGIN, json={"email": world.agent.email, "password": "wrong"}, headers={"User-Agent": "ua/3"})
    entries = (await client.get("/api/v1/audit?target_type=operator", headers=world.supervisor.headers)).json()
    mine = [
        (e["action"], e["details"].get("reason") or e["details"].get("method"), e["user_agent"])
        for e in entries
        if e["target_id"] == world.agent.id
    ]
    assert ("auth.login_failed", "bad_credentials", "ua/3") in mine
    assert ("auth.login", "password+totp", "ua/2") in mine
    assert ("auth.login_failed", "bad_two_factor_code", "ua/1") in mine
    assert any(action == "auth.two_factor_enabled" for action, _, _ in mine)
    assert all(e["ip"] == "127.0.0.1" for e in entries if e["action"].startswith("auth."))
    # Agents cannot read the audit log.
    assert (await client.get("/api/v1/audit", headers=world.agent.headers)).status_code == 403


async def test_forged_challenges_cannot_lock_an_operator_out(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    secret, _ = await enrol(client, world.agent.headers)
    for _ in range(runtime.settings.login_max_failures + 3):
        forged = await client.post(SECOND, json={"challenge": f"{world.agent.id}.9999999999.00", "code": "000000"})
        assert forged.status_code == 401
    details = await challenge_for(client, world.agent.email)
    ok = await client.post(SECOND, json={"challenge": details["challenge"], "code": code_at(secret, 1)})
    assert ok.status_code == 200, ok.text


async def test_every_two_factor_change_is_audited_with_actor_ip_and_user_agent(
    client: httpx.AsyncClient, world: World
) -> None:
    ua = {"User-Agent": "2fa-audit/1"}
    agent = {**world.agent.headers, **ua}
    secret, _ = await enrol(client, agent)
    codes = await client.post(
        "/api/v1/auth/two-factor/recovery-codes", json={"code": code_at(secret, 1)}, headers=agent
    )
    assert codes.status_code == 200, codes.text
    off = await client.post("/api/v1/auth/two-factor/disable", json={"password": PASSWORD}, headers=agent)
    assert off.status_code == 204
    await enrol(client, world.supervisor.headers)
    reset = await client.delete(
        f"/api/v1/operators/{world.supervisor.id}/two-factor", headers={**world.admin.headers, **ua}
    )
    assert reset.status_code == 204
    entries = (await client.get("/api/v1/audit?target_type=operator", headers=world.admin.headers)).json()
    found = {
        (e["action"], e["operator_id"], e["target_id"])
        for e in entries
        if e["user_agent"] == ua["User-Agent"] and e["ip"] == "127.0.0.1" and e["created_at"]
    }
    assert found >= {
        ("auth.two_factor_enabled", world.agent.id, world.agent.id),
        ("auth.recovery_codes_replaced", world.agent.id, world.agent.id),
        ("auth.two_factor_disabled", world.agent.id, world.agent.id),
        ("auth.two_factor_reset", world.admin.id, world.supervisor.id),
    }
