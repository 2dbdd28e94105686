"""The script runner: ask each step, take the answer, validate, re-ask, and close — as pure state changes.

Steps already answered by what the customer wrote (bot/slots.py) are skipped, unsure readings are confirmed,
an answer to a later step given early is noted, a correction ("no, it was Tuesday") replaces an earlier
answer, "I don't know" gets the offer of a person, and a "no" to a step with `stop_if_no` stops the script.
A script ends the way its definition says (`end`): close politely, create a case for a person (the
conversation goes to the human queue with the answers), or call the company's system (the end-action
webhook, bot/end_action.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from helpline.bot import slots, smalltalk
from helpline.bot.engine import ScriptEntry
from helpline.bot.escalation import CASE, FAILED_ANSWERS, Trigger
from helpline.bot.extract import date_value, dont_know, extract, wrong_side, yes_no
from helpline.bot.language import fold, say
from helpline.bot.llm import Llm
from helpline.bot.schemas import PLACEHOLDER, ScriptDefinition, StepDefinition
from helpline.platform.sanitize import without_invisible


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
    # False when the customer was already told (a script ending in a case says so in its closing message).
    notify: bool = True
    # The collected answers with their questions, for the case summary an operator reads.
    fields: list[dict[str, Any]] | None = None


def script_ref(entry: ScriptEntry) -> dict[str, Any]:
    return {"id": entry.id, "key": entry.key, "name": entry.name, "version": entry.version}


def progress(steps_done: int, steps_total: int) -> dict[str, Any]:
    """Seed 001's contract: how far the customer is, and whether this question is the last one."""
    return {
        "steps_done": steps_done,
        "steps_total": steps_total,
        "is_final_step": steps_total == 0 or steps_done >= steps_total - 1,
    }


def question_text(
    step: StepDefinition,
    answers: dict[str, Any] | None = None,
    lang: str = "en",
    steps: Sequence[StepDefinition] = (),
) -> str:
    """The step's question as sent: `{key}` placeholders replaced by earlier answers (`filled_question`), then a
    choice's numbered options."""
    question = filled_question(step, answers, lang, steps)
    if step.type == "choice":
        options = "\n".join(f"{i}) {c}" for i, c in enumerate(step.choices, start=1))
        return f"{question}\n{options}"
    return question


def filled_question(
    step: StepDefinition,
    answers: dict[str, Any] | None = None,
    lang: str = "en",
    steps: Sequence[StepDefinition] = (),
) -> str:
    """The step's question with `{key}` placeholders replaced by earlier answers as the customer reads them
    ("Shall I book {day}, {period}?" → "Shall I book 4 December 2026, Morning?").
    Each value is put in once by re.sub, never read as a template itself, so "{x}" typed by a customer stays as
    typed; a placeholder without an answer (a step skipped by an import of old runs) stays visible."""
    question = step.question
    if answers:
        by_key = {s.key: s for s in steps}

        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in answers:
                return match.group(0)
            source = by_key.get(key)
            return slots.display(source, answers[key], lang) if source else str(answers[key])

        question = PLACEHOLDER.sub(value, question)
    return question


def fields(entry: ScriptEntry, state: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"key", "question", "value"}] of the answers collected, in the script's step order; each question as the
    customer read it ("Shall I book 4 December 2026, Morning?", not its "{day}" template), without a choice's
    numbered options."""
    answers = state.get("answers") or {}
    lang = str(state.get("lang", "en"))
    steps = entry.definition.steps
    return [
        {"key": s.key, "question": filled_question(s, answers, lang, steps), "value": answers[s.key]}
        for s in steps
        if s.key in answers
    ]


def _ask(outcome: Outcome, entry: ScriptEntry, index: int, kind: str, prefix: str = "") -> None:
    steps = entry.definition.steps
    step = steps[index]
    prog = progress(index, len(steps))
    state = outcome.state
    body = question_text(step, state.get("answers") or {}, str(state.get("lang", "en")), steps)
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
    end = definition.end_kind
    total = len(definition.steps)
    prog = {"steps_done": total, "steps_total": total, "is_final_step": True, "completed": True}
    closing = definition.closing_message or (say(str(state.get("lang", "en")), "case_created") if end == "case" else "")
    text = "\n".join(t for t in (prefix, closing) if t)
    if text:
        outcome.replies.append(
            Reply(text, {"bot": {"kind": "closing", "script": script_ref(entry), "progress": prog, "end": end}, **prog})
        )
    outcome.progress = {"script": script_ref(entry), **prog}
    state["mode"] = "done"
    state.pop("confirming", None)
    answers = dict(state.get("answers", {}))
    # The latest completions, for the bot's own bookkeeping; every run's answers are kept in bot_script_runs.
    state["completed"] = [*state.get("completed", []), {"script": script_ref(entry), "answers": answers}][-5:]
    outcome.fields = fields(entry, state)
    outcome.log.append(("script_completed", {"script": script_ref(entry), "answers": answers, "end": end}))
    if definition.end_action is not None:
        outcome.end_action = {
            "script_id": entry.id,
            "script_key": entry.key,
            "version": entry.version,
            "url": definition.end_action.url,
            "answers": answers,
            "fields": outcome.fields,
            "run_id": state.get("run_id"),
        }
    if end == "case":
        # The closing message told the customer; the conversation joins the human queue with the answers.
        outcome.escalate = Trigger(CASE, entry.name)
        outcome.notify = False


def start(
    outcome: Outcome,
    entry: ScriptEntry,
    *,
    lang: str,
    how: str,
    confidence: float | None = None,
    said: list[str] | None = None,
    region: str = "US",
    today: date | None = None,
) -> None:
    """Begin `entry` at its first step not already answered by what the customer `said` (oldest first), or
    close at once when it has no step left (e.g. opening hours)."""
    state = outcome.state
    state.update(
        mode="script",
        script=script_ref(entry),
        step=0,
        attempts=0,
        answers={},
        unsure={},
        confirming=None,
        low_confidence=0,
        clarify=None,
        menu=None,
    )
    state["lang"] = entry.definition.languages[0] if entry.definition.languages else lang
    outcome.log.append(
        (
            "script_started",
            {"script": script_ref(entry), "how": how, "confidence": confidence, "end": entry.definition.end_kind},
        )
    )
    if said and today is not None:
        _prefill(outcome, entry, said, region=region, today=today)
    # A script without questions (opening hours) just answers; one with questions introduces itself.
    _advance(outcome, entry, prefix=say(state["lang"], "start", name=entry.name) if entry.definition.steps else "")


def _prefill(
    outcome: Outcome, entry: ScriptEntry, texts: list[str], *, region: str, today: date, skip: str | None = None
) -> None:
    for key, value, sure in slots.fill(entry.definition, outcome.state, texts, region=region, today=today, skip=skip):
        outcome.log.append(("answer_prefilled", {"step": key, "value": value, "sure": sure}))


def _advance(outcome: Outcome, entry: ScriptEntry, prefix: str = "") -> None:
    """Ask the first step without an answer (confirming an unsure reading first), or finish."""
    state = outcome.state
    answers = state.get("answers") or {}
    index = next((i for i, s in enumerate(entry.definition.steps) if s.key not in answers), None)
    if index is None:
        _finish(outcome, entry, prefix=prefix)
        return
    state["step"], state["attempts"], state["off_topic"] = index, 0, 0
    step = entry.definition.steps[index]
    unsure = state.get("unsure") or {}
    if step.key in unsure:
        state["confirming"] = step.key
        lang = str(state.get("lang", "en"))
        question = say(lang, "confirm", value=slots.display(step, unsure[step.key], lang), question=step.question)
        prog = progress(index, len(entry.definition.steps))
        outcome.replies.append(
            Reply(
                f"{prefix}\n{question}" if prefix else question,
                {"bot": {"kind": "confirm", "script": script_ref(entry), "step": step.key, "progress": prog}, **prog},
            )
        )
        outcome.progress = {"script": script_ref(entry), **prog}
        return
    state["confirming"] = None
    _ask(outcome, entry, index, "question", prefix=prefix)


def current_step(definition: ScriptDefinition, state: dict[str, Any]) -> StepDefinition | None:
    index = int(state.get("step", 0))
    return definition.steps[index] if 0 <= index < len(definition.steps) else None


def _confirmation(
    outcome: Outcome, entry: ScriptEntry, step: StepDefinition, text: str, *, region: str, today: date
) -> bool:
    """The customer's reply to "I understood X — is that right?"; True when settled here. A reply holding a
    value of its own ("no, it was Tuesday", "não, foi dia 20") is not settled here: it is read as the answer."""
    state = outcome.state
    value = (state.get("unsure") or {}).pop(step.key, None)
    state["confirming"] = None
    if step.type != "yes_no" and extract(step, text, region=step.region or region, today=today) is not None:
        outcome.log.append(("answer_corrected", {"step": step.key, "value": value}))
        return False
    verdict = yes_no(text)
    if verdict is True:
        state.setdefault("answers", {})[step.key] = value
        outcome.log.append(("answer_confirmed", {"step": step.key, "value": value}))
        _advance(outcome, entry)
        return True
    if verdict is False:
        outcome.log.append(("answer_corrected", {"step": step.key, "value": value}))
        _ask(outcome, entry, int(state["step"]), "question")
        return True
    return False  # neither: read the reply as the answer itself


def _small_talk(outcome: Outcome, entry: ScriptEntry, kind: str) -> None:
    """Small talk in the middle of a script: answer it, then repeat the pending question (not an attempt)."""
    state = outcome.state
    lang = str(state.get("lang", "en"))
    outcome.log.append(("small_talk", {"kind": kind, "during": entry.key}))
    if kind == smalltalk.GOODBYE:
        outcome.replies.append(Reply(say(lang, "goodbye"), {"bot": {"kind": "small_talk", "intent": kind}}))
        return
    # Thanks mid-script get a plain "you're welcome": "anything else?" would talk over the pending question.
    # An emoji that says nothing (😢 for "what happened?") just gets the question again.
    phrase = {smalltalk.GREETING: "greeting", smalltalk.THANKS: "welcome"}.get(kind, kind)
    prefix = "" if kind == smalltalk.EMOJI else say(lang, phrase)
    _ask(outcome, entry, int(state.get("step", 0)), "question", prefix=prefix)


# Openings of a question of one's own ("do you sell tyres?", "vocês vendem pneus?", "¿venden llantas?"), folded.
_QUESTION_START = re.compile(
    r"^(what|do|does|did|can|could|is|are|how|why|where|when|who|which|will|would|should|have|has"
    r"|voces?|vcs|o que|como|onde|quando|por ?que|qual|quais|quem|pode|podem|tem|vende|vendem|sera"
    r"|tienen|venden|donde|cuando|cual|cuales|quien|puede|pueden|usted|ustedes)\b"
)
# An acknowledgement that answers nothing (not a yes/no step: there "ok" is a yes), folded, EN/PT/ES.
_ACK = re.compile(
    r"^(ok+|okay|okey|k|alright|all right|right|got it|certo|ta|ta bom|beleza|blz|entendi|vale|entendido)[.! ]*$"
)
# Off-topic questions in a row before the re-asked step also offers a person (failed answers count apart).
OFF_TOPIC_OFFER = 2


def _off_topic(text: str) -> bool:
    """Whether a message that is not a valid answer is a question of the customer's own rather than an
    attempt at one: it ends with "?" or opens like a question (EN/PT/ES)."""
    folded = fold(text).strip().lstrip("¿¡ ")
    return folded.endswith("?") or bool(_QUESTION_START.match(folded))


def _decline_off_topic(outcome: Outcome, entry: ScriptEntry, text: str) -> None:
    """An off-topic question inside a script (Rasa's "unhappy path"): say it cannot be helped with here and
    ask the pending step again. Not a failed answer: counted apart, and from OFF_TOPIC_OFFER in a row the
    re-ask also says a person can take over."""
    state = outcome.state
    lang = str(state.get("lang", "en"))
    state["off_topic"] = int(state.get("off_topic", 0)) + 1
    outcome.log.append(("off_topic", {"step": state.get("step"), "count": state["off_topic"], "text": text[:300]}))
    prefix = say(lang, "off_topic")
    if state["off_topic"] >= OFF_TOPIC_OFFER:
        prefix = f"{prefix} {say(lang, 'off_topic_person')}"
    _ask(outcome, entry, int(state.get("step", 0)), "question", prefix=prefix)


# How a correction of an earlier answer opens: "no, it was Tuesday", "sorry, the policy is …", "na verdade …".
_CORRECTION = re.compile(
    r"^(no|nope|sorry|actually|wait|oops|correction|i meant|i mean|my mistake|"
    r"nao|desculpa|desculpe|na verdade|corrigindo|correcao|errei|quis dizer|"
    r"perdon|perdona|en realidad|me equivoque|quise decir|correccion)\b"
)


def _corrections(
    entry: ScriptEntry, state: dict[str, Any], step: StepDefinition, text: str, *, region: str, today: date
) -> list[tuple[StepDefinition, Any]]:
    """Earlier answers `text` replaces: for each answered step (not the current one) that slot filling can
    read, the value `text` holds when it differs from the stored one. A type answered by two steps is left
    alone (which one would be meant?)."""
    answers = state.get("answers") or {}
    answered = [
        s for s in entry.definition.steps if s.key in answers and s.key != step.key and s.type in slots.FILLABLE
    ]
    changed = []
    for earlier in answered:
        if sum(1 for s in answered if s.type == earlier.type) > 1:
            continue
        found = slots.find(earlier, text, region=earlier.region or region, today=today)
        if found is not None and found.value != answers[earlier.key]:
            changed.append((earlier, found.value))
    return changed


def _correct(outcome: Outcome, entry: ScriptEntry, changed: list[tuple[StepDefinition, Any]]) -> None:
    """Replace earlier answers, say so (the value as read, so a wrong reading shows), ask the pending step."""
    state = outcome.state
    lang = str(state.get("lang", "en"))
    said = []
    for step, value in changed:
        state["answers"][step.key] = value
        outcome.log.append(("answer_changed", {"step": step.key, "value": value}))
        said.append(say(lang, "changed", question=step.question, value=slots.display(step, value, lang)))
    _advance(outcome, entry, prefix=" ".join(said))


def _noted(outcome: Outcome, entry: ScriptEntry, text: str, *, region: str, today: date) -> bool:
    """An answer to a later step given before its question ("it happened yesterday" when asked the policy
    number): kept, said back, and the pending question asked again — not a failed answer. True when noted."""
    state = outcome.state
    step_key = str(entry.definition.steps[int(state.get("step", 0))].key)
    filled = slots.fill(entry.definition, state, [text], region=region, today=today, skip=step_key)
    if not filled:
        return False
    lang = str(state.get("lang", "en"))
    steps = {s.key: s for s in entry.definition.steps}
    notes = []
    for key, value, sure in filled:
        outcome.log.append(("answer_prefilled", {"step": key, "value": value, "sure": sure}))
        if sure:  # an unsure reading is confirmed when its step comes up
            notes.append(say(lang, "noted", question=steps[key].question, value=slots.display(steps[key], value, lang)))
    _ask(outcome, entry, int(state["step"]), "question", prefix=" ".join(notes))
    return True


def _stop(outcome: Outcome, entry: ScriptEntry, step: StepDefinition) -> None:
    """A "no" to a step with `stop_if_no` ("Shall I cancel it?"): its message, and the script ends without
    its end — no case, no webhook, nothing promised."""
    state = outcome.state
    # No progress in the reply: the widget hides its step bar, the script did not complete.
    outcome.replies.append(
        Reply(step.stop_if_no or "", {"bot": {"kind": "stopped", "script": script_ref(entry), "step": step.key}})
    )
    state["mode"] = "done"
    state.pop("confirming", None)
    answers = dict(state.get("answers", {}))
    outcome.log.append(("script_stopped", {"script": script_ref(entry), "step": step.key, "answers": answers}))


def _retry_prefix(step: StepDefinition, lang: str, region: str, today: date) -> str:
    prefix = step.retry_message or say(lang, "retry")
    if step.type in ("choice", "yes_no"):
        return prefix if step.type == "choice" else f"{prefix} ({say(lang, 'yes_or_no')})"
    example = slots.example_answer(step, lang, region, today)
    if example and example not in prefix:
        prefix = f"{prefix} {say(lang, 'for_example', example=example)}"
    return prefix


def _date_side(step: StepDefinition, text: str, today: date) -> str | None:
    """The reason a readable date was refused ("date_passed" for a booking yesterday), else None."""
    if step.type != "date" or step.when is None:
        return None
    day = date_value(without_invisible(text), today, past=step.when == "past")
    return wrong_side(step, day, today) if day else None


async def answer(outcome: Outcome, entry: ScriptEntry, text: str, *, llm: Llm | None, region: str, today: date) -> None:
    """Take the customer's reply to the current step: store it and move on, re-ask, or escalate."""
    state = outcome.state
    step = current_step(entry.definition, state)
    if step is None:
        _finish(outcome, entry)
        return
    if state.get("confirming") == step.key and _confirmation(outcome, entry, step, text, region=region, today=today):
        return
    talk = smalltalk.classify(text)
    if talk is not None and (step.type in ("text", "choice", "number") or talk == smalltalk.EMOJI):
        _small_talk(outcome, entry, talk)  # "thanks" is not a description, nor "hello?" an order number
        return
    if step.type in ("text", "yes_no") and _CORRECTION.match(fold(text)):
        # "no, it was Tuesday" asked "what happened?" or "shall I book it?" corrects the date, it is no answer.
        changed = _corrections(entry, state, step, text, region=region, today=today)
        if changed:
            _correct(outcome, entry, changed)
            return
    unknown = step.type != "text" and dont_know(text)
    value = None if unknown else extract(step, text, region=step.region or region, today=today)
    source = "rules"
    if value is None and llm is not None:
        raw = await llm.extract(step, text)
        # The model's answer goes through the same validation as the customer's own words.
        value = extract(step, raw, region=step.region or region, today=today) if raw else None
        source = "llm"
    lang = str(state.get("lang", "en"))
    if value is None:
        if talk is not None:
            _small_talk(outcome, entry, talk)
            return
        if _ACK.match(fold(text)):
            # "ok" to "Which day suits you?" acknowledges the question; it is no attempt at an answer.
            outcome.log.append(("acknowledged", {"step": step.key}))
            _ask(outcome, entry, int(state["step"]), "question", prefix=say(lang, "ack"))
            return
        changed = [] if unknown else _corrections(entry, state, step, text, region=region, today=today)
        if changed:
            _correct(outcome, entry, changed)
            return
        if not unknown and _noted(outcome, entry, text, region=region, today=today):
            return
        if not unknown and _off_topic(text):
            _decline_off_topic(outcome, entry, text)
            return
        state["attempts"] = int(state.get("attempts", 0)) + 1
        outcome.log.append(
            (
                "answer_rejected",
                {"step": step.key, "attempt": state["attempts"], "text": text[:300], "unknown": unknown},
            )
        )
        if state["attempts"] >= step.max_attempts:
            outcome.escalate = Trigger(FAILED_ANSWERS, step.key, {"step": step.key, "step_label": step.question})
            outcome.fields = fields(entry, state)
            return
        # "I don't know": no format lesson, the offer of a person (a retry after max_attempts hands over anyway).
        side = _date_side(step, text, today)
        if unknown:
            prefix = say(lang, "dont_know")
        else:
            prefix = say(lang, side) if side else _retry_prefix(step, lang, region, today)
        _ask(outcome, entry, int(state["step"]), "retry", prefix=prefix)
        return
    state.setdefault("answers", {})[step.key] = value
    (state.get("unsure") or {}).pop(step.key, None)
    outcome.log.append(("answer_extracted", {"step": step.key, "value": value, "source": source}))
    if value is False and step.stop_if_no:
        _stop(outcome, entry, step)
        return
    # The same message may already answer later steps ("POL-482913, it happened yesterday").
    _prefill(outcome, entry, [text], region=region, today=today, skip=step.key)
    _advance(outcome, entry)
