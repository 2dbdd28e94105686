"""Slot filling: answers a script's steps ask for, taken from what the customer already wrote.

A value found in the opening message ("my claim POL-482913", "bateram no meu carro ontem") or in an earlier
answer ("POL-482913, it happened yesterday") fills its step, which is then never asked. Only steps whose
answers carry their own signature are filled this way: a pattern, an e-mail, a valid phone number, a date, a
choice named in full, and a number written next to a word of its question ("order 48213"). Free text and
yes/no are always asked. A reading that could be wrong (an ambiguous date, a second step of the same type) is
kept as *unsure*: the bot asks "I understood … — is that right?" instead of the question.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers

from helpline.bot.extract import choice, email, find_date, number, pattern, phone, reads_past, wrong_side
from helpline.bot.language import fold, words
from helpline.bot.schemas import ScriptDefinition, StepDefinition
from helpline.platform.sanitize import without_invisible

FILLABLE = frozenset({"pattern", "email", "phone", "date", "number", "choice"})
# Words of a question too common to tie a number to it ("what is your …").
_COMMON = frozenset(
    str.split(
        "what which your you the and with number numero qual quais seu sua voce para cual usted quel votre "
        "quale suo please pode poderia could would"
    )
)


@dataclass(frozen=True)
class Found:
    value: Any
    sure: bool


def _keywords(step: StepDefinition) -> set[str]:
    text = f"{step.key.replace('_', ' ').replace('-', ' ')} {step.question}"
    return {w for w in words(text) if len(w) > 3 and w not in _COMMON and not w.isdigit()}


def _number_near_keyword(step: StepDefinition, text: str) -> int | float | None:
    """A number right after a word of the step's question or key: "order 48213", "pedido nº 48213"."""
    keywords = _keywords(step)
    tokens = re.findall(r"[a-z]+|\d[\d.,]*", fold(text))
    for index, token in enumerate(tokens):
        if token[0].isdigit() and any(t in keywords for t in tokens[max(0, index - 3) : index]):
            return number(token)
    return None


def find(step: StepDefinition, text: str, *, region: str, today: date) -> Found | None:
    """The answer to `step` that `text` already holds, or None (always None for text and yes/no steps)."""
    text = without_invisible(text)
    if step.type == "pattern":
        value = pattern(text, step.pattern or "", step.example)
        return Found(value, True) if value else None
    if step.type == "email":
        value = email(text)
        return Found(value, True) if value else None
    if step.type == "phone":
        value = phone(text, step.region or region)
        return Found(value, True) if value else None
    if step.type == "date":
        found = find_date(text, today, past=step.when == "past" or reads_past(step.question))
        if found is None or wrong_side(step, found[0], today) is not None:
            return None  # "book for yesterday" fills nothing: the question is asked and the reason said then
        return Found(found[0].isoformat(), found[1])
    if step.type == "number":
        amount = _number_near_keyword(step, text)
        return Found(amount, True) if amount is not None else None
    if step.type == "choice":
        # Only a choice named in full: "tomorrow morning" fills Morning, a bare "2" does not.
        named = choice(text, step.choices)
        if named is not None and re.search(rf"\b{re.escape(fold(named))}\b", fold(text)):
            return Found(named, True)
    return None


def fill(
    definition: ScriptDefinition,
    state: dict[str, Any],
    texts: list[str],
    *,
    region: str,
    today: date,
    skip: str | None = None,
) -> list[tuple[str, Any, bool]]:
    """Fill unanswered steps (in place, `state["answers"]` and `state["unsure"]`) from `texts`, newest last;
    returns (step key, value, sure) for each step filled. `skip` is the step the newest text answered."""
    answers: dict[str, Any] = state.setdefault("answers", {})
    unsure: dict[str, Any] = state.setdefault("unsure", {})
    open_steps = [s for s in definition.steps if s.key not in answers and s.key not in unsure and s.key != skip]
    filled: list[tuple[str, Any, bool]] = []
    used_types: set[str] = set()
    for step in open_steps:
        if step.type not in FILLABLE or step.type in used_types:
            continue  # one value fills the first open step of its type only
        for text in reversed(texts):
            found = find(step, text, region=region, today=today)
            if found is None:
                continue
            used_types.add(step.type)
            same_type = sum(1 for s in open_steps if s.type == step.type) > 1
            sure = found.sure and not same_type
            (answers if sure else unsure)[step.key] = found.value
            filled.append((step.key, found.value, sure))
            break
    return filled


def example_answer(step: StepDefinition, lang: str, region: str, today: date) -> str | None:
    """What a valid answer looks like, for a retry message: the step's own example, else one by type."""
    if step.example:
        return step.example
    if step.type == "date":
        return date_text(today, lang)
    if step.type == "email":
        return "name@example.com"
    if step.type == "number":
        return "12345"
    if step.type == "phone":
        number_ = phonenumbers.example_number_for_type(
            (step.region or region).upper(), phonenumbers.PhoneNumberType.MOBILE
        )
        return phonenumbers.format_number(number_, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if number_ else None
    return None


def display(step: StepDefinition, value: Any, lang: str) -> str:
    """A value as the customer reads it back in a confirmation: dates day/month/year."""
    if step.type == "date" and isinstance(value, str):
        return date_text(date.fromisoformat(value), lang)
    return str(value)


_EN_MONTHS = tuple(calendar.month_name)[1:]


def date_text(day: date, lang: str) -> str:
    """12 May 2026 in English (no month/day order to guess), 12/05/2026 elsewhere."""
    if lang == "en":
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"
