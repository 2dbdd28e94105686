"""The audit trail: who did what from where, for access, channel and webhook changes; read-only, not for agents."""

from __future__ import annotations

import httpx

from tests.conftest import World
from tests.support import post_inbound

UA = {"User-Agent": "audit-test/1.0"}


async def entries(client: httpx.AsyncClient, world: World, action: str) -> list[dict[str, object]]:
    response = await client.get(f"/api/v1/audit?action={action}", headers=world.admin.headers)
    assert response.status_code == 200, response.text
    result: list[dict[str, object]] = response.json()
    return result


async def test_channel_webhook_role_and_membership_changes_carry_actor_ip_and_user_agent(
    client: httpx.AsyncClient, world: World
) -> None:
    headers = {**world.admin.headers, **UA}
    assert (
        await client.patch(
            f"/api/v1/channels/{world.channel_id}", json={"name": "Renamed", "member_ids": []}, headers=headers
        )
    ).status_code == 200
    hook = await client.post(
        "/api/v1/webhooks", json={"url": "https://crm.example/h", "events": ["*"]}, headers=headers
    )
    assert hook.status_code == 201
    assert (await client.delete(f"/api/v1/webhooks/{hook.json()['id']}", headers=headers)).status_code == 204
    role = await client.patch(
        f"/api/v1/operators/{world.agent.id}",
        json={"role": "supervisor", "channel_ids": [world.channel_id]},
        headers=headers,
    )
    assert role.status_code == 200
    for action in ("channel.updated", "webhook.created", "webhook.deleted", "operator.updated"):
        (entry,) = [e for e in await entries(client, world, action) if e["user_agent"] == UA["User-Agent"]]
        assert entry["operator_id"] == world.admin.id, action
        assert entry["ip"] == "127.0.0.1", action
        assert entry["created_at"], action
    (channel,) = await entries(client, world, "channel.updated")
    assert channel["details"]["member_ids"] == []  # type: ignore[index]
    (operator,) = await entries(client, world, "operator.updated")
    details = operator["details"]
    assert details["previous_role"] == "agent" and details["role"] == "supervisor"  # type: ignore[index]
    assert details["previous_channel_ids"] == [] and details["channel_ids"] == [world.channel_id]  # type: ignore[index]


async def test_agents_cannot_read_and_nobody_can_change_the_audit_log(client: httpx.AsyncClient, world: World) -> None:
    assert (await client.get("/api/v1/audit", headers=world.agent.headers)).status_code == 403
    assert (await client.get("/api/v1/audit", headers=world.supervisor.headers)).status_code == 200
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, "/api/v1/audit", headers=world.admin.headers)
        assert response.status_code == 405, method
        response = await client.request(method, "/api/v1/audit/1", headers=world.admin.headers)
        assert response.status_code in (404, 405), method


async def test_logout_exports_erasures_holds_and_retention_carry_actor_ip_and_user_agent(
    client: httpx.AsyncClient, world: World
) -> None:
    sent = await post_inbound(client, world.channel_id, world.channel_secret, contact_id="ana-1", name="Ana Audit")
    assert sent.status_code == 200, sent.text
    (conversation,) = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    contact_id = conversation["contact"]["id"]
    admin, supervisor = {**world.admin.headers, **UA}, {**world.supervisor.headers, **UA}

    assert (await client.get(f"/api/v1/contacts/{contact_id}/export", headers=supervisor)).status_code == 200
    hold = await client.post(
        "/api/v1/privacy/holds", json={"contact_id": contact_id, "reason": "dispute"}, headers=admin
    )
    assert hold.status_code == 201, hold.text
    assert (await client.delete(f"/api/v1/privacy/holds/{hold.json()['id']}", headers=admin)).status_code == 204
    assert (await client.put("/api/v1/privacy/retention", json={"days": 30}, headers=admin)).status_code == 200
    run = await client.post("/api/v1/privacy/retention/run", json={"dry_run": True}, headers=admin)
    assert run.status_code == 200, run.text
    assert (await client.post(f"/api/v1/contacts/{contact_id}/erase", headers=supervisor)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers={**world.agent.headers, **UA})).status_code == 204

    for action, actor in (
        ("privacy.exported", world.supervisor.id),
        ("privacy.hold_placed", world.admin.id),
        ("privacy.hold_released", world.admin.id),
        ("privacy.retention_changed", world.admin.id),
        ("privacy.retention_run", world.admin.id),
        ("privacy.erased", world.supervisor.id),
        ("auth.logout", world.agent.id),
    ):
        (entry,) = [e for e in await entries(client, world, action) if e["user_agent"] == UA["User-Agent"]]
        assert (entry["operator_id"], entry["ip"]) == (actor, "127.0.0.1"), action
        assert entry["created_at"], action
    # The export names its subject; the erasure only a keyed digest (Art. 17: the audit keeps no one).
    (exported,) = await entries(client, world, "privacy.exported")
    assert exported["target_id"] == contact_id
    (erased,) = await entries(client, world, "privacy.erased")
    assert erased["target_id"] is None and "Ana Audit" not in str(erased["details"])
