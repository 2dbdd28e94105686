"""A completed script's end action: POST the collected answers, signed like webhooks, retried from the outbox.

The outcome is visible: the script run records sent or failed, the interaction log says why, and when the
company's system could not take the answers after the last retry (or refused them), the conversation goes to
the human queue with the answers (reason end_action_failed) so a person does what the system did not."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bot import runs
from helpline.bot.escalation import END_ACTION_FAILED, Trigger
from helpline.bot.handoff import escalate, log_interaction, rule_summary
from helpline.bot.models import Script, ScriptRun
from helpline.conversations.models import Conversation, Status
from helpline.conversations.models import Handler as ConversationHandler
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
                "run_id": payload.get("run_id"),
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
            run = await session.get(ScriptRun, int(payload["run_id"])) if payload.get("run_id") else None
            if run is not None:
                run.end_status = "sent" if error is None else "failed"
            if error is not None:
                await _hand_over(runtime, session, conversation_id, payload, error)

    return run


async def _hand_over(
    runtime: Runtime, session: AsyncSession, conversation_id: int, payload: dict[str, Any], error: str
) -> None:
    """A person takes over what the company's system did not receive (the customer was already answered)."""
    conversation = (
        await session.execute(select(Conversation).where(Conversation.id == conversation_id).with_for_update())
    ).scalar_one_or_none()
    if (
        conversation is None
        or conversation.handler != ConversationHandler.bot.value
        or conversation.status == Status.resolved.value
    ):
        return
    state = dict(conversation.bot_state or {})
    state["rev"] = int(state.get("rev", 0)) + 1
    # The questions travel with the job; a job queued by an older version has the answers only.
    fields = payload.get("fields") or [
        {"key": k, "question": k, "value": v} for k, v in (payload.get("answers") or {}).items()
    ]
    trigger = Trigger(END_ACTION_FAILED, error)
    # A script the customer started meanwhile stops here too: its run is handed over with the conversation.
    await runs.sync(session, conversation_id, state, state, [], escalated=True)
    await escalate(
        session,
        conversation,
        trigger=trigger,
        summary=rule_summary(state, trigger, []),
        state=state,
        blobs=runtime.blobs,
        notify=False,
        message_id=None,
        fields=fields,
    )
