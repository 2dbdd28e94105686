"""Script runs: one row per run of a script in a conversation, with the answers that run collected.

The bot's state keeps only the running script's answers; this table keeps every run's, so a later script
never overwrites an earlier one, operators and exports read them, and the end-action worker records whether
the company's system took them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bot.models import ScriptRun
from helpline.platform.clock import utcnow

RUNNING = "running"
COMPLETED = "completed"
ESCALATED = "escalated"
REPLACED = "replaced"
# The customer said no to a step with `stop_if_no`: the script ended without its end (no case, no webhook).
STOPPED = "stopped"


async def sync(
    session: AsyncSession,
    conversation_id: int,
    before: dict[str, Any],
    state: dict[str, Any],
    log: list[tuple[str, dict[str, Any]]],
    *,
    escalated: bool,
) -> None:
    """Bring the conversation's runs in line with one decision of the bot (`log` its interaction entries):
    a started script opens a run (and closes the one it replaces), answers are copied, completion or a hand-off
    finishes it. Sets `state["run_id"]`; the caller holds the conversation's row lock."""
    started = next((details for kind, details in log if kind == "script_started"), None)
    if started is not None:
        previous = await _get(session, before.get("run_id"))
        if previous is not None and previous.status == RUNNING:
            previous.status, previous.finished_at = REPLACED, utcnow()
        script = started["script"]
        run = ScriptRun(
            conversation_id=conversation_id,
            script_id=script["id"] if int(script["version"]) > 0 else None,
            script_key=script["key"],
            script_name=script["name"],
            script_version=int(script["version"]),
            status=RUNNING,
            end=str(started.get("end") or "close"),
            answers={},
        )
        session.add(run)
        await session.flush()
        state["run_id"] = run.id
    current = await _get(session, state.get("run_id"))
    if current is None or current.status != RUNNING:
        return
    answers = dict(state.get("answers") or {})
    if answers != current.answers:
        current.answers = answers
    if any(kind == "script_completed" for kind, _ in log):
        current.status, current.finished_at = COMPLETED, utcnow()
    elif any(kind == "script_stopped" for kind, _ in log):
        current.status, current.finished_at = STOPPED, utcnow()
    elif escalated:
        current.status, current.finished_at = ESCALATED, utcnow()


async def _get(session: AsyncSession, run_id: Any) -> ScriptRun | None:
    return await session.get(ScriptRun, int(run_id)) if run_id else None


async def conversation_runs(session: AsyncSession, conversation_ids: list[int]) -> list[ScriptRun]:
    rows = await session.execute(
        select(ScriptRun).where(ScriptRun.conversation_id.in_(conversation_ids)).order_by(ScriptRun.id)
    )
    return list(rows.scalars())
