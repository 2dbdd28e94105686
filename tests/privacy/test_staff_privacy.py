"""Staff privacy tools: export (Art. 15/20), erasure reaching every copy (Art. 17), legal holds, retention."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner, Result
from sqlalchemy import select, text, update

from helpline.bot.models import BotInteraction, ScriptRun
from helpline.cli import main
from helpline.conversations.models import Conversation, Status
from helpline.jobs import retention_chore
from helpline.platform.clock import utcnow
from helpline.privacy.retention import run_retention
from helpline.runtime import Runtime
from helpline.tables import metadata
from tests.conftest import World, drain
from tests.platform.peer_fixtures import app, peer
from tests.support import post_inbound

__all__ = ["app", "peer"]

NAME = "Zelda Quuxerasable"
CARD = "4111 1111 1111 1111"
PERSON_ID = "zq-contact-7781"
FILE_MARKER = b"ZELDA-PRIVATE-FILE-0xC0FFEE"
SUMMARY = f"customer {NAME} disputes a charge on card {CARD}"
STRINGS = [NAME.lower(), CARD, PERSON_ID, FILE_MARKER.decode().lower(), "zelda's refund"]


async def person_with_everything(client: httpx.AsyncClient, world: World, runtime: Runtime) -> tuple[int, int]:
    """Zelda writes twice (one file), an operator answers, the bot logged a hand-off summary, an outgoing webhook
    recorded deliveries, the realtime buffer holds the frames. Returns (contact id, conversation id)."""
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://crm.example/hook", "events": ["*"]},
        headers=world.admin.headers,
    )
    assert hook.status_code == 201, hook.text
    first = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        contact_id=PERSON_ID,
        name=NAME,
        message_id="z-1",
        text=f"my card {CARD} was charged twice",
    )
    assert first.status_code == 200, first.text
    second = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        contact_id=PERSON_ID,
        name=NAME,
        message_id="z-2",
        text="here is the receipt for zelda's refund",
        attachments=[
            {"filename": "receipt.txt", "content_type": "text/plain", "data": base64.b64encode(FILE_MARKER).decode()}
        ],
    )
    assert second.status_code == 200, second.text
    # Someone else, who must not be touched.
    other = await post_inbound(
        client,
        world.channel_id,
        world.channel_secret,
        contact_id="bob-1",
        name="Bob Bystander",
        message_id="b-1",
        text="unrelated question about opening hours",
    )
    assert other.status_code == 200
    conversations = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    (zelda,) = [c for c in conversations if c["contact"]["name"] == NAME]
    reply = await client.post(
        f"/api/v1/conversations/{zelda['id']}/messages",
        json={"text": f"Sorry {NAME}, we are refunding the card ending 1111"},
        headers=world.agent.headers,
    )
    assert reply.status_code == 201, reply.text
    async with runtime.db.transaction() as session:
        session.add(BotInteraction(conversation_id=zelda["id"], kind="handoff", details={"summary": SUMMARY}))
        session.add(
            ScriptRun(
                conversation_id=zelda["id"],
                script_key="refund",
                script_name="Refund",
                script_version=1,
                status="completed",
                answers={"card": CARD},
            )
        )
    await drain(runtime)
    return zelda["contact"]["id"], zelda["id"]


async def everything_stored(runtime: Runtime) -> str:
    """Every value of every table, the blob store's bytes and the replay buffer, as one lowercase text."""
    parts: list[str] = []
    async with runtime.db.reads() as session:
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    for path in runtime.settings.attachments_dir.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    parts.extend(json.dumps(frame, ensure_ascii=False, default=str) for frame in runtime.hub._buffer)
    return "\n".join(parts).lower()


async def test_erasure_reaches_every_copy(client: httpx.AsyncClient, world: World, runtime: Runtime) -> None:
    contact_id, conversation_id = await person_with_everything(client, world, runtime)
    before = await everything_stored(runtime)
    for needle in STRINGS:
        assert needle.lower() in before, f"the setup did not store {needle!r}"
    # Agents may not erase.
    assert (await client.post(f"/api/v1/contacts/{contact_id}/erase", headers=world.agent.headers)).status_code == 403

    erased = await client.post(f"/api/v1/contacts/{contact_id}/erase", headers=world.supervisor.headers)
    assert erased.status_code == 200, erased.text
    counts = erased.json()
    assert counts["contacts"] == 1 and counts["conversations"] == 1 and counts["messages"] == 3
    assert counts["attachments"] == 1 and counts["webhook_deliveries"] >= 3
    await drain(runtime)  # the forget frame reaches the hubs through the outbox

    after = await everything_stored(runtime)
    for needle in STRINGS:
        assert needle.lower() not in after, f"{needle!r} survived the erasure"
    assert (await client.get(f"/api/v1/contacts/{contact_id}", headers=world.admin.headers)).status_code == 404
    gone = await client.get(f"/api/v1/conversations/{conversation_id}", headers=world.admin.headers)
    assert gone.status_code == 404
    # Bob is untouched, and so are his webhook deliveries.
    assert "bob bystander" in after and "opening hours" in after
    # The erasure's own audit entry stays, and names no one.
    audit = (await client.get("/api/v1/audit?action=privacy.erased", headers=world.admin.headers)).json()
    assert len(audit) == 1 and audit[0]["operator_id"] == world.supervisor.id
    assert audit[0]["target_id"] is None and len(audit[0]["details"]["subject"]) == 24


async def test_export_holds_everything_about_the_person_and_no_one_else(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    contact_id, conversation_id = await person_with_everything(client, world, runtime)
    assert (await client.get(f"/api/v1/contacts/{contact_id}/export", headers=world.agent.headers)).status_code == 403
    response = await client.get(f"/api/v1/contacts/{contact_id}/export", headers=world.supervisor.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    document: dict[str, Any] = json.loads(archive.read("export.json"))
    assert document["format"] == "helpline.contact-export/1"
    assert [c["name"] for c in document["contacts"]] == [NAME]
    assert [i["provider_id"] for i in document["identities"]] == [PERSON_ID]
    assert [c["id"] for c in document["conversations"]] == [conversation_id]
    assert len(document["messages"]) == 3
    assert [b["details"]["summary"] for b in document["bot_interactions"]] == [SUMMARY]
    assert [(r["script_key"], r["answers"]) for r in document["script_runs"]] == [("refund", {"card": CARD})]
    (attachment,) = document["attachments"]
    assert archive.read(attachment["file"]) == FILE_MARKER
    assert "Bob Bystander" not in json.dumps(document) and "opening hours" not in json.dumps(document)
    audit = (await client.get("/api/v1/audit?action=privacy.exported", headers=world.admin.headers)).json()
    assert [(a["target_id"], a["operator_id"]) for a in audit] == [(contact_id, world.supervisor.id)]
    assert (await client.get("/api/v1/contacts/999999/export", headers=world.admin.headers)).status_code == 404


async def test_a_legal_hold_blocks_erasure_until_released(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    contact_id, _ = await person_with_everything(client, world, runtime)
    hold = await client.post(
        "/api/v1/privacy/holds",
        json={"contact_id": contact_id, "reason": "court order 12/2026"},
        headers=world.supervisor.headers,
    )
    assert hold.status_code == 201, hold.text
    blocked = await client.post(f"/api/v1/contacts/{contact_id}/erase", headers=world.admin.headers)
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "legal_hold"
    released = await client.delete(f"/api/v1/privacy/holds/{hold.json()['id']}", headers=world.supervisor.headers)
    assert released.status_code == 204
    assert (await client.post(f"/api/v1/contacts/{contact_id}/erase", headers=world.admin.headers)).status_code == 200


async def _age(runtime: Runtime, conversation_id: int, days: int, status: str = Status.resolved.value) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(status=status, last_activity_at=utcnow() - timedelta(days=days))
        )


async def test_retention_with_a_moved_clock_dry_run_and_a_legal_hold(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    contact_id, zelda = await person_with_everything(client, world, runtime)
    conversations = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    (bob,) = [c["id"] for c in conversations if c["id"] != zelda]
    assert (
        await client.put("/api/v1/privacy/retention", json={"days": 30}, headers=world.supervisor.headers)
    ).status_code == 403
    policy = await client.put(
        "/api/v1/privacy/retention", json={"channel_id": world.channel_id, "days": 30}, headers=world.admin.headers
    )
    assert policy.status_code == 200 and policy.json()["channels"] == {str(world.channel_id): 30}
    await _age(runtime, zelda, days=31)
    await _age(runtime, bob, days=31, status=Status.open.value)  # old but not resolved: kept

    dry = await client.post("/api/v1/privacy/retention/run", json={"dry_run": True}, headers=world.admin.headers)
    assert dry.json() == {"dry_run": True, "conversation_ids": [zelda], "counts": dry.json()["counts"]}
    assert (await client.get(f"/api/v1/conversations/{zelda}", headers=world.admin.headers)).status_code == 200

    hold = await client.post(
        "/api/v1/privacy/holds", json={"conversation_id": zelda, "reason": "dispute"}, headers=world.admin.headers
    )
    async with runtime.db.transaction() as session:
        held = await run_retention(session, utcnow(), dry_run=False)
    assert held.conversation_ids == []
    await client.delete(f"/api/v1/privacy/holds/{hold.json()['id']}", headers=world.admin.headers)

    # 29 days old is not due yet; the clock moves on and it is.
    await _age(runtime, zelda, days=29)
    async with runtime.db.transaction() as session:
        assert (await run_retention(session, utcnow(), dry_run=False)).conversation_ids == []
    async with runtime.db.transaction() as session:
        report = await run_retention(session, utcnow() + timedelta(days=2), dry_run=False)
    assert report.conversation_ids == [zelda]
    await drain(runtime)
    assert (await client.get(f"/api/v1/conversations/{zelda}", headers=world.admin.headers)).status_code == 404
    assert (await client.get(f"/api/v1/conversations/{bob}", headers=world.admin.headers)).status_code == 200
    stored = await everything_stored(runtime)
    assert CARD not in stored and "zelda's refund" not in stored
    # The contact itself stays (retention purges conversations); its identity still routes new messages.
    assert (await client.get(f"/api/v1/contacts/{contact_id}", headers=world.admin.headers)).status_code == 200
    runs = (await client.get("/api/v1/audit?action=privacy.retention_run", headers=world.admin.headers)).json()
    assert [r["details"]["dry_run"] for r in runs] == [False, True]


async def test_global_retention_applies_to_channels_without_their_own(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    _, zelda = await person_with_everything(client, world, runtime)
    await client.put("/api/v1/privacy/retention", json={"days": 365}, headers=world.admin.headers)
    await _age(runtime, zelda, days=366)
    async with runtime.db.transaction() as session:
        assert (await run_retention(session, utcnow(), dry_run=True)).conversation_ids == [zelda]
    # A longer channel period wins over the global one.
    await client.put(
        "/api/v1/privacy/retention", json={"channel_id": world.channel_id, "days": 400}, headers=world.admin.headers
    )
    async with runtime.db.transaction() as session:
        assert (await run_retention(session, utcnow(), dry_run=True)).conversation_ids == []
    async with runtime.db.reads() as session:
        assert (await session.execute(text("SELECT 1"))).scalar() == 1


async def test_the_cli_exports_erases_and_runs_retention(
    client: httpx.AsyncClient, world: World, runtime: Runtime, tmp_path: Path
) -> None:
    contact_id, _ = await person_with_everything(client, world, runtime)
    settings = runtime.settings
    env = {
        "HELPLINE_DATABASE_URL": settings.database_url,
        "HELPLINE_DATA_DIR": str(settings.data_dir),
        "HELPLINE_SECRET_KEY": settings.secret_key,
    }
    runner = CliRunner()

    def cli(*args: str) -> Result:
        return runner.invoke(main, ["privacy", *args], env=env)

    out = tmp_path / "zelda.zip"
    exported = await asyncio.to_thread(cli, "export", str(contact_id), "--out", str(out))
    assert exported.exit_code == 0, exported.output
    document = json.loads(zipfile.ZipFile(out).read("export.json"))
    assert [c["name"] for c in document["contacts"]] == [NAME]

    refused = await asyncio.to_thread(cli, "erase", str(contact_id))
    assert refused.exit_code != 0 and "--yes" in refused.output
    erased = await asyncio.to_thread(cli, "erase", str(contact_id), "--yes")
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.output)["contacts"] == 1
    assert (await client.get(f"/api/v1/contacts/{contact_id}", headers=world.admin.headers)).status_code == 404
    missing = await asyncio.to_thread(cli, "erase", str(contact_id), "--yes")
    assert missing.exit_code == 1 and "no such contact" in missing.output

    dry = await asyncio.to_thread(cli, "retention")
    assert dry.exit_code == 0 and json.loads(dry.output)["dry_run"] is True
    audit = (await client.get("/api/v1/audit?action=privacy.retention_run", headers=world.admin.headers)).json()
    assert audit[0]["details"]["via"] == "cli"


async def test_the_workers_purge_on_their_interval_and_audit_it_as_the_system(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    _, zelda = await person_with_everything(client, world, runtime)
    conversations = (await client.get("/api/v1/conversations", headers=world.admin.headers)).json()["items"]
    (bob,) = [c["id"] for c in conversations if c["id"] != zelda]
    await client.put("/api/v1/privacy/retention", json={"days": 30}, headers=world.admin.headers)
    await _age(runtime, zelda, days=31)

    ran_at = await retention_chore(runtime, None)
    assert ran_at is not None
    await drain(runtime)
    assert (await client.get(f"/api/v1/conversations/{zelda}", headers=world.admin.headers)).status_code == 404
    # Within HELPLINE_RETENTION_INTERVAL_SECONDS the next pass does nothing, even with something due…
    await _age(runtime, bob, days=31)
    assert await retention_chore(runtime, ran_at) == ran_at
    assert (await client.get(f"/api/v1/conversations/{bob}", headers=world.admin.headers)).status_code == 200
    # …and once the interval has passed it purges again.
    interval = timedelta(seconds=runtime.settings.retention_interval_seconds + 1)
    assert await retention_chore(runtime, ran_at - interval) != ran_at
    assert (await client.get(f"/api/v1/conversations/{bob}", headers=world.admin.headers)).status_code == 404
    runs = (await client.get("/api/v1/audit?action=privacy.retention_run", headers=world.admin.headers)).json()
    assert [(r["operator_id"], r["details"]["conversations"]) for r in runs] == [(None, 1), (None, 1)]
