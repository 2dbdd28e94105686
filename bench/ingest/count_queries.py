"""Deterministic cost model: SQL statements per inbound message, in process, on a throw-away SQLite file.

Counts the statements the webhook path (channel lookup + ingest transaction) and the outbox worker (every
row the message caused) send, for messages from new and from existing contacts. Unlike msgs/s it does
not depend on how busy the machine is, so it shows the effect of query-level changes exactly.

    python -m bench.ingest.count_queries [--messages 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event


async def _run(messages: int) -> dict[str, Any]:
    from helpline.channels import actions as channel_actions
    from helpline.channels.models import Channel
    from helpline.channels.registry import build_adapter
    from helpline.channels.schemas import ChannelCreate
    from helpline.conversations.ingest import ingest_events
    from helpline.jobs import build_worker
    from helpline.platform.migrate import upgrade_async
    from helpline.runtime import Runtime
    from helpline.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="helpline-count-") as tmp:
        settings = load_settings(data_dir=Path(tmp), secret_key="x" * 48, run_workers=False)
        await upgrade_async(settings.database_url)
        runtime = Runtime.create(settings)
        await runtime.start_realtime()
        counter = {"n": 0}

        @event.listens_for(runtime.db.engine.sync_engine, "before_cursor_execute")
        def _count(*_: Any) -> None:
            counter["n"] += 1

        async with runtime.db.transaction() as session:
            channel, _ = await channel_actions.create_channel(
                session,
                ChannelCreate(kind="api", name="count", settings={"bot_enabled": False}),
                box=runtime.box,
                actor_id=None,
                allow_private=False,
            )
        worker = build_worker(runtime)
        results: dict[str, Any] = {}
        for label, contact_of in (("new_contact", lambda i: f"n{i}"), ("existing_contact", lambda i: "n0")):
            request = work = 0
            for i in range(messages):
                body = json.dumps({"contact": {"id": contact_of(i)}, "message": {"id": f"{label}-{i}", "text": "hi"}})
                start = counter["n"]
                # What the inbound route does: look the channel up, then ingest.
                async with runtime.db.sessions() as session:
                    loaded = await session.get(Channel, channel.id)
                assert loaded is not None
                adapter = build_adapter(channel_actions.channel_config(loaded, runtime.box), runtime.http)
                await ingest_events(runtime, loaded, adapter.parse_webhook(body.encode()))
                request += counter["n"] - start
                start = counter["n"]
                while await worker.run_once():
                    pass
                work += counter["n"] - start - 1  # the final, empty claim
            results[label] = {
                "request_statements": round(request / messages, 2),
                "worker_statements": round(work / messages, 2),
            }
        await runtime.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_run(args.messages))))


if __name__ == "__main__":
    main()
