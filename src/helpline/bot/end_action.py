"""A completed script's end action: POST the collected answers, signed like webhooks, retried from the outbox."""

from __future__ import annotations

import json

import httpx

from helpline.bot.handoff import log_interaction
from helpline.bot.models import Script
from helpline.platform.crypto import sign_header
from helpline.platform.netguard import UnsafeTarget, check_target
from helpline.platform.worker import Handler, Job, RetryLater
from helpline.runtime import Runtime


def make_end_action_handler(runtime: Runtime) -> Handler:
    async def run(job: Job) -> None:
        payload = job.payload
        conversation_id = int(payload["conversation_id"])
        async with runtime.db.reads() as session:
            script = await session.get(Script, int(payload["script_id"]))
            secret = (
                str(runtime.box.open(script.end_action_secret)["secret"]) if script and script.end_action_secret else ""
            )
        body = json.dumps(
            {
                "event": "script.completed",
                "conversation_id": conversation_id,
                "script": {"id": payload["script_id"], "key": payload["script_key"], "version": payload["version"]},
                "answers": payload["answers"],
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Helpline-Event": "script.completed",
            "X-Helpline-Signature": sign_header(secret, body),
            # The same key on every retry of this outbox row, so the receiver can drop duplicates.
            "Idempotency-Key": f"helpline-end-action-{job.id}",
        }
        error: str | None = None
        permanent = False
        code: int | None = None
        try:
            await check_target(str(payload["url"]), allow_private=runtime.settings.allow_private_targets)
            response = await runtime.http.post(str(payload["url"]), content=body, headers=headers)
            code = response.status_code
            if not response.is_success:
                error = f"HTTP {code}"
                permanent = 400 <= code < 500 and code not in (408, 409, 425, 429)
        except UnsafeTarget as exc:
            error, permanent = exc.message, True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is not None and not permanent and not job.last_attempt:
            raise RetryLater(error)
        async with runtime.db.transaction() as session:
            details = {"url": payload["url"], "status": code, "error": error, "attempt": job.attempt}
            log_interaction(session, conversation_id, "end_action" if error is None else "end_action_failed", details)

    return run
