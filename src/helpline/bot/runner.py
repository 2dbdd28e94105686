"""The script runner: ask each step, take the answer, validate, re-ask, and close — as pure state changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from helpline.bot.engine import ScriptEntry
from helpline.bot.escalation import FAILED_ANSWERS, Trigger
from helpline.bot.extract import extract
from helpline.bot.language import say
from helpline.bot.llm import Llm
from helpline.bot.schemas import ScriptDefinition, StepDefinition


@dataclass
class Reply:
    text: str
    content: dict[str, Any]


@dataclass
class Outcome:
    """What the bot decided for one message; the pipeline applies it in one transaction."""

    state: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    escalate: Trigger | None = None
    end_action: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None


def script_ref(entry: ScriptEntry) -> dict[str, Any]:
    return {"id": entry.id, "key": entry.key, "name": entry.name, "version": entry.version}


def progress(steps_done: int, steps_total: int) -> dict[str, Any]:
    """Seed 001's contract: how far the customer is, and whether this question is the last one."""
    return {
        "steps_done": steps_done,
        "steps_total": steps_total,
        "is_final_step": steps_total == 0 or steps_done >= steps_total - 1,
    }


def question_text(step: StepDefinition) -> str:
    if step.type == "choice":
        options = "\n".join(f"{i}) {c}" for i, c in enumerate(step.choices, start=1))
        return f"{step.question}\n{options}"
    return step.question


def _ask(outcome: Outcome, entry: ScriptEntry, index: int, kind: str, prefix: str = "") -> None:
    steps = entry.definition.steps
    step = steps[index]
    prog = progress(index, len(steps))
    body = question_text(step)
    outcome.replies.append(
        Reply(
            f"{prefix}\n{body}" if prefix else body,
            {
                "bot": {
                    "kind": kind,
                    "script": script_ref(entry),
                    "step": step.key,
                    "progress": prog,
                    # Channels that can offer buttons (the website widget's quick replies) read them here.
                    "choices": list(step.choices) if step.type == "choice" else [],
                },
                **prog,
            },
        )
    )
    outcome.progress = {"script": script_ref(entry), **prog}


def _finish(outcome: Outcome, entry: ScriptEntry, prefix: str = "") -> None:
    definition = entry.definition
    state = outcome.state
    total = len(definition.steps)
    prog = {"steps_done": total, "steps_total": total, "is_final_step": True, "completed": True}
    text = "\n".join(t for t in (prefix, definition.closing_message) if t)
    if text:
        outcome.replies.append(
            Reply(text, {"bot": {"kind": "closing", "script": script_ref(entry), "progress": prog}, **prog})
        )
    outcome.progress = {"script": script_ref(entry), **prog}
    state["mode"] = "done"
    state.setdefault("completed", []).append({"script": script_ref(entry), "answers": dict(state.get("answers", {}))})
    outcome.log.append(("script_completed", {"script": script_ref(entry), "answers": state.get("answers", {})}))
    if definition.end_action is not None:
        outcome.end_action = {
            "script_id": entry.id,
            "script_key": entry.key,
            "version": entry.version,
            "url": definition.end_action.url,
            "answers": dict(state.get("answers", {})),
        }


def start(outcome: Outcome, entry: ScriptEntry, *, lang: str, how: str, confidence: float | None = None) -> None:
    """Begin `entry` at its first step (or close at once when it has none, e.g. opening hours)."""
    state = outcome.state
    state.update(
        mode="script", script=script_ref(entry), step=0, attempts=0, answers={}, low_confidence=0, clarify=None
    )
    state["lang"] = entry.definition.languages[0] if entry.definition.languages else lang
    outcome.log.append(("script_started", {"script": script_ref(entry), "how": how, "confidence": confidence}))
    intro = say(state["lang"], "start", name=entry.name)
    if entry.definition.steps:
        _ask(outcome, entry, 0, "question", prefix=intro)
    else:
        _finish(outcome, entry, prefix="")


def current_step(definition: ScriptDefinition, state: dict[str, Any]) -> StepDefinition | None:
    index = int(state.get("step", 0))
    return definition.steps[index] if 0 <= index < len(definition.steps) else None


async def answer(outcome: Outcome, entry: ScriptEntry, text: str, *, llm: Llm | None, region: str, today: date) -> None:
    """Take the customer's reply to the current step: store it and move on, re-ask, or escalate."""
    state = outcome.state
    steps = entry.definition.steps
    step = current_step(entry.definition, state)
    if step is None:
        _finish(outcome, entry)
        return
    value = extract(step, text, region=region, today=today)
    source = "rules"
    if value is None and llm is not None:
        raw = await llm.extract(step, text)
        # The model's answer goes through the same validation as the customer's own words.
        value = extract(step, raw, region=region, today=today) if raw else None
        source = "llm"
    lang = str(state.get("lang", "en"))
    if value is None:
        state["attempts"] = int(state.get("attempts", 0)) + 1
        outcome.log.append(("answer_rejected", {"step": step.key, "attempt": state["attempts"], "text": text[:300]}))
        if state["attempts"] >= step.max_attempts:
            outcome.escalate = Trigger(FAILED_ANSWERS, step.key)
            return
        _ask(outcome, entry, int(state["step"]), "retry", prefix=step.retry_message or say(lang, "retry"))
        return
    state.setdefault("answers", {})[step.key] = value
    state["attempts"] = 0
    state["step"] = int(state["step"]) + 1
    outcome.log.append(("answer_extracted", {"step": step.key, "value": value, "source": source}))
    if state["step"] < len(steps):
        _ask(outcome, entry, state["step"], "question")
    else:
        _finish(outcome, entry)
