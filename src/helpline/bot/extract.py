"""Pull a step's answer out of natural text ("it's 12 May", "my number is +55 11 …", "the second one")."""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta
from typing import Any

import phonenumbers

from helpline.bot.language import fold, words
from helpline.bot.schemas import StepDefinition


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_YES = _set(
    "yes y yeah yep yup sure ok okay please correct right affirmative sim claro certo isso pode si vale "
    "exacto oui ouais daccord bien certo esatto certamente"
)
_NO = _set("no nope nah not never nao negative non nada nunca pas niente")
_YES_PHRASES = ("of course", "por favor", "com certeza", "por supuesto", "bien sur", "va bene", "that's right")
_NO_PHRASES = ("no thanks", "not really", "de jeito nenhum", "de ninguna manera", "pas du tout", "per niente")

_ORDINALS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "1 1st first one primeiro primeira um uma primero primera uno premier premiere un une primo prima",
        "2 2nd second two segundo segunda dois duas dos deuxieme deux secondo seconda due",
        "3 3rd third three terceiro terceira tres tercero tercera troisieme trois terzo terza",
        "4 4th fourth four quarto quarta quatro cuarto cuarta cuatro quatrieme quatre quattro",
        "5 5th fifth five quinto quinta cinco cinquieme cinq cinque",
    ),
    start=1,
):
    for _name in _names.split():
        _ORDINALS.setdefault(_name, _index)
# "one"/"um"/"un" are too common as articles to count as a choice unless they are the whole answer.
_WEAK_ORDINALS = frozenset({"one", "um", "uma", "un", "une", "uno", "a"})

_MONTHS: dict[str, int] = {}
for _month, _names in enumerate(
    (
        "january jan janeiro enero janvier gennaio gen",
        "february feb fevereiro fev febrero febrer fevrier febbraio",
        "march mar marco marzo mars",
        "april apr abril avril aprile",
        "may maio mayo mai maggio mag",
        "june jun junho junio juin giugno giu",
        "july jul julho julio juillet luglio lug",
        "august aug agosto aout ago",
        "september sep sept setembro set septiembre septembre settembre",
        "october oct outubro out octubre octobre ottobre ott",
        "november nov novembro noviembre novembre",
        "december dec dezembro dez diciembre decembre dicembre dic",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS.setdefault(_name, _month)

_RELATIVE_DAYS = {
    "today": 0, "hoje": 0, "hoy": 0, "aujourd'hui": 0, "aujourdhui": 0, "oggi": 0,
    "tomorrow": 1, "amanha": 1, "manana": 1, "demain": 1, "domani": 1,
    "yesterday": -1, "ontem": -1, "ayer": -1, "hier": -1, "ieri": -1,
}  # fmt: skip

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|o|º)?\s+(?:de\s+|of\s+)?([a-z]+)\.?(?:,?\s+(?:de\s+)?(\d{4}))?")
_MONTH_DAY = re.compile(r"\b([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")


def yes_no(text: str) -> bool | None:
    folded = fold(text)
    if any(p in folded for p in _NO_PHRASES):
        return False
    if any(p in folded for p in _YES_PHRASES):
        return True
    tokens = words(text)
    yes = any(t in _YES for t in tokens)
    no = any(t in _NO for t in tokens)
    return None if yes == no else yes


def choice(text: str, choices: list[str]) -> str | None:
    """By number or ordinal ("2", "the second one", "a segunda"), by name, or by a close spelling."""
    folded = fold(text)
    folded_choices = [fold(c) for c in choices]
    # A choice named in full wins over ordinals inside it ("two-wheeler" is not choice 2).
    named = [c for c, fc in zip(choices, folded_choices, strict=True) if re.search(rf"\b{re.escape(fc)}\b", folded)]
    if len(named) == 1:
        return named[0]
    tokens = words(text)
    for token in tokens:
        index = _ORDINALS.get(token)
        if index is None or (token in _WEAK_ORDINALS and len(tokens) > 1):
            continue
        if 1 <= index <= len(choices):
            return choices[index - 1]
    close = difflib.get_close_matches(folded, folded_choices, n=1, cutoff=0.75)
    if close:
        return choices[folded_choices.index(close[0])]
    # A word of one choice only ("the gold plan" → "Gold").
    hits = {i for i, fc in enumerate(folded_choices) for w in fc.split() if len(w) > 2 and w in tokens}
    return choices[hits.pop()] if len(hits) == 1 else None


def number(text: str) -> int | float | None:
    match = _NUMBER.search(text)
    if match is None:
        return None
    raw = match.group(0)
    # "1.234,5" (pt/es) and "1,234.5" (en): the last separator is the decimal one when 1-2 digits follow it.
    last = max(raw.rfind("."), raw.rfind(","))
    if last != -1 and len(raw) - last - 1 in (1, 2):
        integer, decimal = re.sub(r"[.,]", "", raw[:last]), raw[last + 1 :]
        return float(f"{integer}.{decimal}")
    return int(re.sub(r"[.,]", "", raw))


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(raw: str | None, today: date) -> int:
    if not raw:
        return today.year
    value = int(raw)
    return value + 2000 if value < 100 else value


def date_value(text: str, today: date) -> date | None:
    """ISO, day-first numeric (month-first when the day cannot be a month), month names in five languages,
    and today / tomorrow / yesterday."""
    folded = fold(text)
    for token in re.findall(r"[a-z']+", folded):
        if token in _RELATIVE_DAYS:
            return today + timedelta(days=_RELATIVE_DAYS[token])
    if m := _ISO_DATE.search(folded):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for m in _DAY_MONTH.finditer(folded):
        month = _MONTHS.get(m.group(2))
        if month:
            return _safe_date(_year(m.group(3), today), month, int(m.group(1)))
    for m in _MONTH_DAY.finditer(folded):
        month = _MONTHS.get(m.group(1))
        if month:
            return _safe_date(_year(m.group(3), today), month, int(m.group(2)))
    if m := _NUMERIC_DATE.search(folded):
        first, second = int(m.group(1)), int(m.group(2))
        day, month = (second, first) if second > 12 >= first else (first, second)
        return _safe_date(_year(m.group(3), today), month, day)
    return None


def email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0).lower() if match else None


def phone(text: str, region: str) -> str | None:
    """The first valid number in the text, as E.164 (numbers without +country use `region`)."""
    for match in phonenumbers.PhoneNumberMatcher(text, region.upper(), leniency=phonenumbers.Leniency.VALID):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def pattern(text: str, regex: str) -> str | None:
    match = re.search(regex, text, re.IGNORECASE)
    return match.group(0) if match else None


def free_text(text: str) -> str | None:
    cleaned = " ".join(text.split())
    return cleaned or None


def extract(step: StepDefinition, text: str, *, region: str, today: date) -> Any:
    """The answer to `step` found in `text`, as a JSON value; None when the text holds no valid answer."""
    if step.type == "text":
        return free_text(text)
    if step.type == "yes_no":
        return yes_no(text)
    if step.type == "choice":
        return choice(text, step.choices)
    if step.type == "number":
        return number(text)
    if step.type == "date":
        found = date_value(text, today)
        return found.isoformat() if found else None
    if step.type == "email":
        return email(text)
    if step.type == "phone":
        return phone(text, step.region or region)
    if step.type == "pattern":
        return pattern(text, step.pattern or "")
    return None
