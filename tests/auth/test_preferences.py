"""Operator preferences (GET/PUT /auth/me/preferences) and the admins' names in GET /auth/me."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import PASSWORD, World

PREFS = "/api/v1/auth/me/preferences"
DEFAULTS: dict[str, Any] = {
    "locale": "en",
    "time_zone": None,
    "hour_cycle": None,
    "theme": "system",
    "sound": False,
    "notifications": False,
    "shortcuts": True,
    "saved_views": [],
}


async def test_defaults_then_saved_values_per_operator(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get(PREFS, headers=world.agent.headers)).json() == DEFAULTS
    mine = {
        "locale": "pt-BR",
        "time_zone": "America/Sao_Paulo",
        "hour_cycle": "h23",
        "theme": "dark",
        "sound": True,
        "notifications": True,
        "shortcuts": False,
        "saved_views": [{"name": "Fila <b>VIP</b>", "query": "tag=vip&status=open&sort=waiting"}],
    }
    saved = await client.put(PREFS, json=mine, headers=world.agent.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json() == mine
    assert (await client.get(PREFS, headers=world.agent.headers)).json() == mine
    # Someone else's preferences are untouched and unreachable: there is no operator id in the route.
    assert (await client.get(PREFS, headers=world.supervisor.headers)).json() == DEFAULTS

    # PUT replaces the whole object: what is omitted returns to its default.
    partial = await client.put(PREFS, json={"theme": "light"}, headers=world.agent.headers)
    assert partial.json() == {**DEFAULTS, "theme": "light"}


async def test_bad_preferences_are_refused_with_422(client: httpx.AsyncClient, world: World) -> None:
    headers = world.agent.headers
    too_many = [{"name": f"v{i}", "query": "status=open"} for i in range(21)]
    for body in (
        {"time_zone": "Mars/Olympus_Mons"},
        {"time_zone": "../../etc/passwd"},
        {"time_zone": ""},
        {"locale": "fr"},
        {"hour_cycle": "h24"},
        {"theme": "sepia"},
        {"sound": "loud"},
        {"saved_views": too_many},
        {"saved_views": [{"name": "x" * 61, "query": ""}]},
        {"saved_views": [{"name": "", "query": ""}]},
        {"saved_views": [{"name": "ok", "query": "q=" + "x" * 999}]},
        {"colour": "blue"},
    ):
        response = await client.put(PREFS, json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"]
    assert (await client.get(PREFS, headers=headers)).json() == DEFAULTS
    twenty = [{"name": "x" * 60, "query": "q=" + "y" * 998} for _ in range(20)]
    accepted = await client.put(PREFS, json={"saved_views": twenty, "time_zone": "UTC"}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert (await client.get(PREFS)).status_code == 401


async def test_cookie_sessions_need_csrf_to_save(client: httpx.AsyncClient, world: World) -> None:
    login = await client.post("/api/v1/auth/login", json={"email": world.agent.email, "password": PASSWORD})
    csrf = login.json()["csrf_token"]
    assert (await client.put(PREFS, json={"theme": "dark"})).status_code == 403
    saved = await client.put(PREFS, json={"theme": "dark"}, headers={"X-CSRF-Token": csrf})
    assert saved.status_code == 200, saved.text
    client.cookies.clear()


async def test_me_names_the_active_admins_only(client: httpx.AsyncClient, world: World) -> None:
    created = await client.post(
        "/api/v1/operators",
        json={"email": "zoe@example.com", "name": "Zoë Admin", "password": PASSWORD, "role": "admin"},
        headers=world.admin.headers,
    )
    assert created.status_code == 201, created.text
    retired = await client.post(
        "/api/v1/operators",
        json={"email": "old@example.com", "name": "Old Admin", "password": PASSWORD, "role": "admin"},
        headers=world.admin.headers,
    )
    deactivated = await client.patch(
        f"/api/v1/operators/{retired.json()['id']}", json={"active": False}, headers=world.admin.headers
    )
    assert deactivated.status_code == 200, deactivated.text

    lonely = await client.post(
        "/api/v1/operators",
        json={"email": "new@example.com", "name": "New", "password": PASSWORD, "role": "agent"},
        headers=world.admin.headers,
    )
    assert lonely.status_code == 201
    login = await client.post("/api/v1/auth/login", json={"email": "new@example.com", "password": PASSWORD})
    client.cookies.clear()
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["channel_ids"] == []
    assert body["admins"] == [{"name": "Admin"}, {"name": "Zoë Admin"}]
    assert set(body["admins"][0]) == {"name"}  # names only: no e-mail, no id
