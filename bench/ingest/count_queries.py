"""Deterministic cost model: SQL statements per inbound message, through the real route and the workers.

Posts N signed messages to the accept-fast route of an in-process app (httpx over ASGI, no network), counting
every statement the engine sends while the requests run, then runs the outbox worker until nothing is due
and counts again. Messages from new contacts and from one existing contact are measured separately. On
PostgreSQL (`--database-url postgresql+asyncpg://…`, a database you may fill) BEGIN/COMMIT are not cursor
executions and are reported apart, as transactions.

    python -m bench.ingest.count_queries [--messages 200] [--batch 100] [--database-url …]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from helpline.platform.crypto import sign_header


async def measure(
    runtime: Any, client: httpx.AsyncClient, channel_id: int, secret: str, messages: int
) -> dict[str, Any]:
    """Statements (and transactions) per message for each contact mix; used by the bench and by a test."""
    from helpline.jobs import build_worker

    counter = {"statements": 0, "transactions": 0}

    def count_statement(*_: Any) -> None:
        counter["statements"] += 1

    def with_driver() -> dict[str, int]:
        # The accept path's INSERT goes through asyncpg directly on PostgreSQL (Database.driver_pool),
        # where SQLAlchemy's events do not see it.
        return {**counter, "statements": counter["statements"] + runtime.db.driver_statements}

    def count_transaction(*_: Any) -> None:
        counter["transactions"] += 1

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_statement)
    event.listen(engine, "commit", count_transaction)
    worker = build_worker(runtime)
    results: dict[str, Any] = {}
    try:
        for label, contact_of in (("new_contact", lambda i: f"n{i}"), ("existing_contact", lambda i: "n0")):
            start = with_driver()
            for i in range(messages):
                body = json.dumps({"contact": {"id": contact_of(i)}, "message": {"id": f"{label}-{i}", "text": "hi"}})
                headers = {
                    "Content-Type": "application/json",
                    "X-Helpline-Signature": sign_header(secret, body.encode()),
                }
                response = await client.post(f"/api/v1/channels/{channel_id}/inbound", content=body, headers=headers)
                assert response.status_code == 200, response.text
            middle = with_driver()
            while await worker.run_once():
                pass
            end = with_driver()
            empty_claim = 1  # the final claim that found nothing
            results[label] = {
                "request_statements": round((middle["statements"] - start["statements"]) / messages, 2),
                "worker_statements": round((end["statements"] - middle["statements"] - empty_claim) / messages, 2),
                "total_statements": round((end["statements"] - start["statements"] - empty_claim) / messages, 2),
                "transactions": round((end["transactions"] - start["transactions"]) / messages, 2),
            }
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
        event.remove(engine, "commit", count_transaction)
    return results


async def _run(messages: int, batch: int, database_url: str | None) -> dict[str, Any]:
    from helpline.app import create_app
    from helpline.channels import actions as channel_actions
    from helpline.channels.schemas import ChannelCreate
    from helpline.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="helpline-count-") as tmp:
        overrides: dict[str, Any] = {"run_workers": False, "worker_batch_size": batch}
        if database_url:
            overrides["database_url"] = database_url
        settings = load_settings(data_dir=Path(tmp), secret_key="x" * 48, **overrides)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            runtime = app.state.runtime
            async with runtime.db.transaction() as session:
                channel, reveal = await channel_actions.create_channel(
                    session,
                    ChannelCreate(kind="api", name="count", settings={"bot_enabled": False}),
                    box=runtime.box,
                    actor_id=None,
                    allow_private=False,
                )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://count") as client:
                return await measure(runtime, client, channel.id, reveal["secret"], messages)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100, help="HELPLINE_WORKER_BATCH_SIZE")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.messages, args.batch, args.database_url))))


if __name__ == "__main__":
    main()
