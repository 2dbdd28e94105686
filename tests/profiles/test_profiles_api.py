"""Profiles and events (admins), their logos, how they show in the inbox; health and metrics."""

from __future__ import annotations

import httpx
import pytest

from helpline import __version__
from helpline.runtime import Runtime
from tests.conftest import World
from tests.support import post_inbound

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def _profile(client: httpx.AsyncClient, world: World, name: str = "Acme") -> dict[str, object]:
    response = await client.post(
        "/api/v1/profiles", json={"name": name, "description": "the brand"}, headers=world.admin.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def _upload(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, name: str, data: bytes, kind: str
) -> httpx.Response:
    return await client.put(path, files={"file": (name, data, kind)}, headers=headers)


async def test_profile_crud_by_admin(client: httpx.AsyncClient, world: World) -> None:
    created = await _profile(client, world)
    assert (created["name"], created["description"], created["logo_url"]) == ("Acme", "the brand", None)
    pid = created["id"]
    duplicate = await client.post("/api/v1/profiles", json={"name": "Acme"}, headers=world.admin.headers)
    assert duplicate.status_code == 409
    renamed = await client.patch(f"/api/v1/profiles/{pid}", json={"name": "Acme Corp"}, headers=world.admin.headers)
    assert renamed.status_code == 200 and renamed.json()["name"] == "Acme Corp"
    # Everyone reads (inbox filters); only admins write.
    assert (await client.get(f"/api/v1/profiles/{pid}", headers=world.agent.headers)).json()["name"] == "Acme Corp"
    assert [p["name"] for p in (await client.get("/api/v1/profiles", headers=world.agent.headers)).json()] == [
        "Acme Corp"
    ]
    for persona in (world.supervisor, world.agent):
        assert (await client.post("/api/v1/profiles", json={"name": "X"}, headers=persona.headers)).status_code == 403
        assert (
            await client.patch(f"/api/v1/profiles/{pid}", json={"name": "Y"}, headers=persona.headers)
        ).status_code == 403
        assert (await client.delete(f"/api/v1/profiles/{pid}", headers=persona.headers)).status_code == 403
        assert (
            await _upload(client, persona.headers, f"/api/v1/profiles/{pid}/logo", "l.png", PNG, "image/png")
        ).status_code == 403
    assert (await client.delete(f"/api/v1/profiles/{pid}", headers=world.admin.headers)).status_code == 204
    assert (await client.get(f"/api/v1/profiles/{pid}", headers=world.admin.headers)).status_code == 404


async def test_profile_logo_upload(client: httpx.AsyncClient, world: World) -> None:
    pid = (await _profile(client, world))["id"]
    response = await _upload(client, world.admin.headers, f"/api/v1/profiles/{pid}/logo", "logo.png", PNG, "image/png")
    assert response.status_code == 200, response.text
    logo_url = response.json()["logo_url"]
    assert logo_url and logo_url.startswith("/api/v1/attachments/")
    assert (await client.get(f"/api/v1/profiles/{pid}", headers=world.agent.headers)).json()["logo_url"] == logo_url
    download = await client.get(logo_url, headers=world.agent.headers)
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"

    text_file = await _upload(
        client, world.admin.headers, f"/api/v1/profiles/{pid}/logo", "notes.txt", b"hello", "text/plain"
    )
    assert text_file.status_code == 422
    assert text_file.json()["error"]["code"] == "attachment_type"
    too_big = await _upload(
        client,
        world.admin.headers,
        f"/api/v1/profiles/{pid}/logo",
        "big.png",
        PNG + b"\x00" * (2 * 1024 * 1024),
        "image/png",
    )
    assert too_big.status_code == 422
    assert too_big.json()["error"]["code"] == "too_large"
    # The refused uploads left the logo alone.
    assert (await client.get(f"/api/v1/profiles/{pid}", headers=world.admin.headers)).json()["logo_url"] == logo_url
    missing = await _upload(client, world.admin.headers, "/api/v1/profiles/999999/logo", "logo.png", PNG, "image/png")
    assert missing.status_code == 404


async def test_events_with_dates(client: httpx.AsyncClient, world: World) -> None:
    pid = (await _profile(client, world))["id"]
    created = await client.post(
        "/api/v1/events",
        json={"name": "Summer Fest", "profile_id": pid, "starts_on": "2026-07-01", "ends_on": "2026-07-03"},
        headers=world.admin.headers,
    )
    assert created.status_code == 201, created.text
    event = created.json()
    assert (event["starts_on"], event["ends_on"], event["profile_id"]) == ("2026-07-01", "2026-07-03", pid)

    backwards = await client.post(
        "/api/v1/events",
        json={"name": "Backwards", "starts_on": "2026-07-03", "ends_on": "2026-07-01"},
        headers=world.admin.headers,
    )
    assert backwards.status_code == 422
    bad_update = await client.patch(
        f"/api/v1/events/{event['id']}", json={"ends_on": "2026-06-01"}, headers=world.admin.headers
    )
    assert bad_update.status_code == 422
    still = (await client.get(f"/api/v1/events/{event['id']}", headers=world.agent.headers)).json()
    assert still["ends_on"] == "2026-07-03"

    unknown_profile = await client.post(
        "/api/v1/events", json={"name": "Orphan", "profile_id": 999999}, headers=world.admin.headers
    )
    assert unknown_profile.status_code == 422
    assert (await client.post("/api/v1/events", json={"name": "X"}, headers=world.agent.headers)).status_code == 403

    listed = (await client.get("/api/v1/events", params={"profile_id": pid}, headers=world.agent.headers)).json()
    assert [e["name"] for e in listed] == ["Summer Fest"]
    logo = await _upload(client, world.admin.headers, f"/api/v1/events/{event['id']}/logo", "e.png", PNG, "image/png")
    assert logo.status_code == 200 and logo.json()["logo_url"]
    assert (await client.delete(f"/api/v1/events/{event['id']}", headers=world.admin.headers)).status_code == 204
    assert (await client.get(f"/api/v1/events/{event['id']}", headers=world.admin.headers)).status_code == 404


async def test_conversation_list_shows_profile_and_event(client: httpx.AsyncClient, world: World) -> None:
    pid = (await _profile(client, world))["id"]
    profile_logo = (
        await _upload(client, world.admin.headers, f"/api/v1/profiles/{pid}/logo", "p.png", PNG, "image/png")
    ).json()["logo_url"]
    event = (
        await client.post(
            "/api/v1/events", json={"name": "Summer Fest", "profile_id": pid}, headers=world.admin.headers
        )
    ).json()
    event_logo = (
        await _upload(
            client, world.admin.headers, f"/api/v1/events/{event['id']}/logo", "e.png", PNG + b"e", "image/png"
        )
    ).json()["logo_url"]
    linked = await client.patch(
        f"/api/v1/channels/{world.channel_id}",
        json={"profile_id": pid, "default_event_id": event["id"]},
        headers=world.admin.headers,
    )
    assert linked.status_code == 200, linked.text

    assert (await post_inbound(client, world.channel_id, world.channel_secret)).status_code == 200
    (item,) = (await client.get("/api/v1/conversations", headers=world.agent.headers)).json()["items"]
    assert item["profile"] == {"id": pid, "name": "Acme", "logo_url": profile_logo}
    assert item["event"] == {"id": event["id"], "name": "Summer Fest", "logo_url": event_logo}
    filtered = (
        await client.get("/api/v1/conversations", params={"profile_id": pid}, headers=world.agent.headers)
    ).json()
    assert [c["id"] for c in filtered["items"]] == [item["id"]]


async def test_health(client: httpx.AsyncClient, runtime: Runtime) -> None:
    client.cookies.clear()
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"] == __version__
    assert body["database_kind"] == runtime.db.engine.dialect.name


@pytest.mark.parametrize(
    "name",
    [
        "helpline_http_requests_total",
        "helpline_inbound_messages_total",
        "helpline_outbound_messages_total",
        "helpline_outbox_pending",
        "helpline_outbox_oldest_pending_seconds",
        "helpline_websocket_clients",
    ],
)
async def test_metrics_expose(client: httpx.AsyncClient, world: World, name: str) -> None:
    assert (await post_inbound(client, world.channel_id, world.channel_secret)).status_code == 200
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert any(line.startswith(f"# TYPE {name} ") for line in lines), name


async def test_metrics_values(client: httpx.AsyncClient, world: World) -> None:
    assert (await post_inbound(client, world.channel_id, world.channel_secret)).status_code == 200
    text = (await client.get("/metrics")).text
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if line and not line.startswith("#")
    }
    assert samples['helpline_inbound_messages_total{channel_kind="api"}'] == 1.0
    assert samples["helpline_outbox_pending"] > 0  # nothing drained yet
    assert samples["helpline_outbox_oldest_pending_seconds"] >= 0
    assert samples["helpline_websocket_clients"] == 0
    assert any(k.startswith("helpline_http_requests_total{") for k in samples)
