"""A worker killed mid-delivery: after its lease expires another worker re-sends with the same Idempotency-Key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from helpline.auth.actions import create_operator
from helpline.auth.models import Role
from helpline.auth.schemas import OperatorCreate
from helpline.channels.actions import create_channel
from helpline.channels.schemas import ChannelCreate
from helpline.platform.outbox import OutboxRow
from tests.conftest import PASSWORD, login
from tests.e2e.conftest import (
    CallbackServer,
    LiveApp,
    Process,
    eventually,
    helpline_env,
    kill_process,
    serve_app,
    start_process,
    stop_processes,
)
from tests.support import post_inbound

LEASE_SECONDS = 2


async def setup_channel(live: LiveApp, callback_url: str) -> tuple[dict[str, str], int, str]:
    async with live.runtime.db.transaction() as session:
        await create_operator(
            session,
            OperatorCreate(email="boss@example.com", name="Boss", password=PASSWORD, role=Role.admin),
            actor_id=None,
        )
        channel, reveal = await create_channel(
            session,
            ChannelCreate(kind="api", name="Shop", settings={"bot_enabled": False, "callback_url": callback_url}),
            box=live.runtime.box,
            actor_id=None,
            allow_private=True,
        )
    token = await login(live.client, "boss@example.com")
    return {"Authorization": f"Bearer {token}"}, channel.id, reveal["secret"]


async def test_killed_worker_is_replaced_and_the_message_is_sent_once(
    tmp_path: Path, db_url: str, callback: CallbackServer
) -> None:
    callback.hold_first = True
    async with serve_app(tmp_path, db_url, run_workers=False) as live:
        headers, channel_id, secret = await setup_channel(live, callback.url)
        callback.secret = secret
        env = helpline_env(
            tmp_path / "worker",
            db_url,
            HELPLINE_BASE_URL=live.base_url,
            HELPLINE_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
            HELPLINE_OUTBOX_POLL_SECONDS="0.1",
            HELPLINE_OUTBOX_BACKOFF_BASE_SECONDS="0.1",
            HELPLINE_OUTBOX_BACKOFF_MAX_SECONDS="0.5",
        )
        workers: list[Process] = []
        try:
            workers.append(start_process("worker-1", ["worker"], env, tmp_path))

            response = await post_inbound(live.client, channel_id, secret, text="where is my parcel?")
            assert response.status_code == 200, response.text
            conversation_id = (await live.client.get("/api/v1/conversations", headers=headers)).json()["items"][0]["id"]
            reply = await live.client.post(
                f"/api/v1/conversations/{conversation_id}/messages", json={"text": "on its way"}, headers=headers
            )
            assert reply.status_code == 201, reply.text
            message_id = reply.json()["id"]

            # The first attempt reaches the receiver, which never answers; the worker dies waiting.
            (first,) = await callback.wait_for_requests(1, timeout=60)
            kill_process(workers[0])
            assert first.signature_ok and first.idempotency_key
            assert callback.processed == {}

            workers.append(start_process("worker-2", ["worker"], env, tmp_path))
            requests = await callback.wait_for_requests(2, timeout=LEASE_SECONDS + 60)
            assert [r.idempotency_key for r in requests] == [first.idempotency_key] * 2
            assert all(r.signature_ok for r in requests)
            assert requests[1].body == first.body
            # Nobody re-sent while the dead worker's lease was still valid.
            assert requests[1].at - first.at >= LEASE_SECONDS - 0.5

            async def message_state() -> dict[str, Any]:
                page = await live.client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=headers)
                (message,) = [m for m in page.json()["items"] if m["id"] == message_id]
                return dict(message)

            async def is_sent() -> bool:
                return bool((await message_state())["delivery_state"] == "sent")

            await eventually(is_sent, timeout=20)

            async def outbox_rows() -> dict[str, int]:
                async with live.runtime.db.sessions() as session:
                    rows = await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
                    return {status: int(count) for status, count in rows}

            async def outbox_empty() -> bool:
                return await outbox_rows() == {}

            await eventually(outbox_empty, timeout=20)

            # A real receiver dedupes on the key: exactly one message was processed, and it is the one recorded.
            assert list(callback.processed) == [first.idempotency_key]
            assert len(callback.requests) == 2
            assert (await message_state())["provider_message_id"] == callback.processed[first.idempotency_key]
        except BaseException:
            for worker in workers:
                print(f"--- {worker.name}\n{worker.log()}")
            raise
        finally:
            stop_processes(workers)
