"""The in-process workers run on their own loop in a thread: commits on the server's loop wake them, their
frames reach the server's sockets, and stopping the server stops them."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from helpline.app import create_app
from helpline.auth.models import Role
from helpline.auth.permissions import Principal
from helpline.platform import outbox
from helpline.realtime.frames import TOPIC as REALTIME_TOPIC
from helpline.runtime import Runtime
from helpline.worker_thread import WorkerThread
from tests.conftest import make_settings

ADMIN = Principal(operator_id=1, role=Role.admin, channel_ids=frozenset())


async def test_the_workers_run_on_their_own_thread_and_deliver_to_the_servers_sockets(
    tmp_path: Path, db_url: str
) -> None:
    # A long idle poll: only the thread-safe wake-up can make the frame arrive within the wait below.
    settings = make_settings(tmp_path, db_url, run_workers=True, outbox_poll_seconds=30)
    app = create_app(settings, migrate=False)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        workers: WorkerThread = app.state.workers
        assert workers.worker is not None
        assert workers.worker._loop is not asyncio.get_running_loop()
        assert any(t.name == "helpline-workers" for t in threading.enumerate())
        socket = runtime.hub.subscribe(ADMIN, None)
        await asyncio.sleep(0.2)  # the worker's first claim found nothing and it now waits
        async with runtime.db.transaction() as session:
            outbox.enqueue(session, REALTIME_TOPIC, {"type": "test.ping", "audience": {}, "data": {"n": 1}})
        frame = await asyncio.wait_for(socket.queue.get(), timeout=10)
        assert frame["type"] == "test.ping"
        assert frame["data"] == {"n": 1}
    assert not any(t.name == "helpline-workers" for t in threading.enumerate())
