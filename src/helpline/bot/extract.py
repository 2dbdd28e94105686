"""Pull a step's answer out of natural text ("it's 12 May", "my number is +55 11 …", "the second one").

Dates are own code, not a general date parser: the bot must find a date *inside* a chat sentence ("bateram no
meu carro anteontem"), know whether the reading is certain (an ambiguous 05/06 is confirmed with the customer)
and resolve it against the conversation's local date; a general parser searching free text (dateparser's
search) also reads dates into ordinary words and reports no certainty. The vocabulary is closed and small:
relative days, "N days ago", last/next weekday, month names and numeric forms in EN, PT, ES, FR and IT.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, timedelta
from typing import Any

import phonenumbers

from helpline.bot.language import fold, words
from helpline.bot.schemas import StepDefinition
from helpline.platform.sanitize import without_invisible


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_YES = _set(
    "yes y yeah yep yup sure ok okay please correct right affirmative sim claro certo isso pode si vale "
    "exacto oui ouais daccord bien certo esatto certamente"
)
_NO = _set("no nope nah not never nao negative non nada nunca pas niente")
_YES_PHRASES = ("of course", "por favor", "com certeza", "por supuesto", "bien sur", "va bene", "that's right")
_NO_PHRASES = ("no thanks", "not really", "de jeito nenhum", "de ninguna manera", "pas du tout", "per niente")

_DONT_KNOW = re.compile(
    r"\b((i )?(don'?t|do not|dont) (know|remember|recall|have (it|that|one))|idk|no idea|not sure|no clue|"
    r"(nao|n) (sei|lembro|me lembro|tenho( (ele|ela|isso|aqui))?)|sei la|"
    r"no (lo )?(se|recuerdo|tengo)|ni idea|"
    r"je ne (sais|me souviens) pas|je (ne l'?ai|n'?ai) pas|"
    r"non (lo )?(so|ricordo|ce l'ho))\b"
)

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

_RELATIVE_PHRASES = (
    (r"day before yesterday|anteontem|antes de ontem|anteayer|antes de ayer|avant[- ]hier|l'?altro ieri|altroieri", -2),
    (r"day after tomorrow|depois de amanha|pasado manana|apres[- ]demain|dopodomani", 2),
    (r"last night|ontem a noite|ontem de noite|anoche|hier soir|ieri sera", -1),
    (r"this morning|hoje de manha|hoje cedo|esta manana|ce matin|stamattina", 0),
)
_RELATIVE_DAYS = {
    "today": 0, "hoje": 0, "hoy": 0, "aujourd'hui": 0, "aujourdhui": 0, "oggi": 0,
    "tomorrow": 1, "amanha": 1, "manana": 1, "demain": 1, "domani": 1,
    "yesterday": -1, "ontem": -1, "ayer": -1, "hier": -1, "ieri": -1,
}  # fmt: skip

_WEEKDAYS: dict[str, int] = {}
for _weekday, _names in enumerate(
    (
        "monday mon segunda segunda-feira lunes lundi lunedi",
        "tuesday tue tues terca terca-feira martes mardi martedi",
        "wednesday wed quarta quarta-feira miercoles mercredi mercoledi",
        "thursday thu thurs quinta quinta-feira jueves jeudi giovedi",
        "friday fri sexta sexta-feira viernes vendredi venerdi",
        "saturday sat sabado samedi",
        "sunday sun domingo dimanche domenica",
    )
):
    for _name in _names.split():
        _WEEKDAYS[_name] = _weekday
_COUNTS = {
    "a": 1, "an": 1, "one": 1, "um": 1, "uma": 1, "un": 1, "una": 1, "uno": 1, "une": 1,
    "two": 2, "dois": 2, "duas": 2, "dos": 2, "deux": 2, "due": 2,
    "three": 3, "tres": 3, "trois": 3, "tre": 3,
    "four": 4, "quatro": 4, "cuatro": 4, "quatre": 4, "quattro": 4,
    "five": 5, "cinco": 5, "cinq": 5, "cinque": 5,
    "six": 6, "seis": 6, "sei": 6, "seven": 7, "sete": 7, "siete": 7, "sept": 7, "sette": 7,
    "eight": 8, "oito": 8, "ocho": 8, "huit": 8, "otto": 8, "nine": 9, "nove": 9, "nueve": 9, "neuf": 9,
    "ten": 10, "dez": 10, "diez": 10, "dix": 10, "dieci": 10,
}  # fmt: skip
_COUNT = r"(\d{1,3}|" + "|".join(sorted(_COUNTS, key=len, reverse=True)) + ")"
_UNITS = {"day": 1, "days": 1, "dia": 1, "dias": 1, "jour": 1, "jours": 1, "giorno": 1, "giorni": 1,
          "week": 7, "weeks": 7, "semana": 7, "semanas": 7, "semaine": 7, "semaines": 7, "settimana": 7,
          "settimane": 7}  # fmt: skip
_UNIT = "(" + "|".join(_UNITS) + ")"
_AGO = (
    re.compile(rf"\b{_COUNT} {_UNIT} (?:ago|atras)\b"),
    re.compile(rf"\b(?:ha|faz|fazem|hace|il y a) {_COUNT} {_UNIT}\b"),
    re.compile(rf"\b{_COUNT} {_UNIT} fa\b"),
)
_DAY_NAME = "(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + ")"
_LAST_WEEKDAY = (
    re.compile(rf"\blast {_DAY_NAME}\b"),
    re.compile(rf"\b{_DAY_NAME} (?:passad[ao]|pasad[ao]|dernier|derniere|scors[ao])\b"),
    re.compile(rf"\b(?:ultim[ao]|el pasado) {_DAY_NAME}\b"),
)
_NEXT_WEEKDAY = (
    re.compile(rf"\b(?:next|proxim[ao]|el proximo|la proxima) {_DAY_NAME}\b"),
    re.compile(rf"\b{_DAY_NAME} (?:que vem|prochain|prochaine|prossim[ao]|que viene)\b"),
)
_BARE_WEEKDAY = re.compile(rf"\b(?:on |na |no |el |le |il |this |esta |este )?{_DAY_NAME}\b")
# A day of the month alone: "foi dia 20", "on the 20th", "el día 20", "le 20".
_DAY_OF_MONTH = (
    re.compile(r"\b(?:dia|el dia|le|il giorno) (\d{1,2})\b"),
    re.compile(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b"),
)
# Words that put what the customer describes in the past ("it was Tuesday", "foi na terça", "fue el lunes"), in
# the message or in the step's question ("When did it happen?"): a bare weekday is then the latest one.
_PAST = re.compile(
    r"\b(was|were|did|happened|occurred|had|hit|crashed|stole|stolen|broke|broken|"
    r"foi|aconteceu|ocorreu|bateram|bati|tive|roubaram|quebrou|quebraram|"
    r"fue|paso|ocurrio|chocaron|choque|tuve|robaron|rompio|"
    r"etait|c'etait|est arrive|e successo|era)\b"
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|o|º)?\s+(?:de\s+|of\s+)?([a-z]+)\.?(?:,?\s+(?:de\s+)?(\d{4}))?")
_MONTH_DAY = re.compile(r"\b([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")


def yes_no(text: str) -> bool | None:
    """True for yes, False for no (EN, PT, ES, FR, IT words, a thumbs up or down), None when unclear or both."""
    thumbs = {c for c in text if c in "\U0001f44d\U0001f44e"}
    if len(thumbs) == 1 and not words(text):
        return "\U0001f44d" in thumbs
    folded = fold(text)
    if any(p in folded for p in _NO_PHRASES):
        return False
    if any(p in folded for p in _YES_PHRASES):
        return True
    tokens = words(text)
    yes = any(t in _YES for t in tokens)
    no = any(t in _NO for t in tokens)
    return None if yes == no else yes


def dont_know(text: str) -> bool:
    """Whether the customer says they do not know or do not have what was asked ("I don't know", "não sei",
    "no lo sé", "no tengo"): an honest non-answer, not a wrong one."""
    return bool(_DONT_KNOW.search(fold(text)))


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


def _weekday_before(today: date, weekday: int) -> date:
    return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)


def _weekday_after(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _count(raw: str) -> int:
    return int(raw) if raw.isdigit() else _COUNTS[raw]


def _explicit_date(folded: str, today: date) -> tuple[date, bool] | None:
    if m := _ISO_DATE.search(folded):
        found = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return (found, True) if found else None
    for m in _DAY_MONTH.finditer(folded):
        month = _MONTHS.get(m.group(2))
        if month and (found := _safe_date(_year(m.group(3), today), month, int(m.group(1)))):
            return found, True
    for m in _MONTH_DAY.finditer(folded):
        month = _MONTHS.get(m.group(1))
        if month and (found := _safe_date(_year(m.group(3), today), month, int(m.group(2)))):
            return found, True
    if m := _NUMERIC_DATE.search(folded):
        first, second = int(m.group(1)), int(m.group(2))
        day, month = (second, first) if second > 12 >= first else (first, second)
        found = _safe_date(_year(m.group(3), today), month, day)
        # 05/06 reads as 5 June, but could be May 6: ask when both numbers could be the month.
        return (found, first == second or first > 12 or second > 12) if found else None
    return None


def _day_of_month(day: int, today: date, past: bool) -> tuple[date, bool] | None:
    """ "dia 20": this month's 20th, or the month's before (past) or after when that side of today; certain only
    when it falls in this month."""
    if not 1 <= day <= 31:
        return None
    if (past and day <= today.day) or (not past and day >= today.day):
        found = _safe_date(today.year, today.month, day)
        return (found, True) if found else None
    month, year = (
        (today.month - 1 or 12, today.year - (today.month == 1))
        if past
        else (
            today.month % 12 + 1,
            today.year + (today.month == 12),
        )
    )
    found = _safe_date(year, month, day)
    return (found, False) if found else None


def reads_past(text: str) -> bool:
    """Whether `text` speaks of the past ("it was", "foi", "fue", "When did it happen?")."""
    return bool(_PAST.search(fold(text)))


def _relative_date(folded: str, today: date, past: bool = False) -> tuple[date, bool] | None:
    for phrase, days in _RELATIVE_PHRASES:
        if re.search(rf"\b(?:{phrase})\b", folded):
            return today + timedelta(days=days), True
    for pattern_ in _AGO:
        if m := pattern_.search(folded):
            return today - timedelta(days=_count(m.group(1)) * _UNITS[m.group(2)]), True
    for pattern_ in _LAST_WEEKDAY:
        if m := pattern_.search(folded):
            return _weekday_before(today, _WEEKDAYS[m.group(1)]), True
    for pattern_ in _NEXT_WEEKDAY:
        if m := pattern_.search(folded):
            return _weekday_after(today, _WEEKDAYS[m.group(1)]), True
    for token in re.findall(r"[a-z']+", folded):
        if token in _RELATIVE_DAYS:
            return today + timedelta(days=_RELATIVE_DAYS[token]), True
    for pattern_ in _DAY_OF_MONTH:
        if m := pattern_.search(folded):
            return _day_of_month(int(m.group(1)), today, past or bool(_PAST.search(folded)))
    if m := _BARE_WEEKDAY.search(folded):
        # "on Monday": past or coming? The coming one — or the latest one when the message or the question
        # speaks of the past ("it was Tuesday") — is read, and the customer is asked to confirm.
        weekday = _WEEKDAYS[m.group(1)]
        if past or _PAST.search(folded):
            return _weekday_before(today, weekday), False
        return _weekday_after(today, weekday), False
    return None


def find_date(text: str, today: date, *, past: bool = False) -> tuple[date, bool] | None:
    """(the date in `text`, whether the reading is certain), or None. `today` is the conversation's local date.

    Explicit dates first (ISO 2026-05-03; "12 May", "12 de maio", "May 12th, 2026"; numeric day-first 12/05 or
    12.05.2026, month-first when the day cannot be a month), then relative ones: anteontem / day before
    yesterday / anteayer, yesterday / ontem / ayer, last night, today, tomorrow, "3 days ago" / "há 3 dias" /
    "hace dos días", "last Monday" / "segunda passada" / "el lunes pasado" (the latest before today), "next
    Friday" / "próxima sexta" (the first after today), a day of the month alone ("dia 20", "the 20th"). A bare
    weekday or an ambiguous numeric date is uncertain. A bare weekday is the coming one, or the latest one when
    `past` (the step asks about the past) or the text itself speaks of the past ("it was Tuesday")."""
    folded = fold(text).replace("-feira", "")
    return _explicit_date(folded, today) or _relative_date(folded, today, past)


def date_value(text: str, today: date, *, past: bool = False) -> date | None:
    found = find_date(text, today, past=past)
    return found[0] if found else None


def wrong_side(step: StepDefinition, day: date, today: date) -> str | None:
    """Why `day` cannot answer a date step with a direction (`step.when`): "date_passed" for a past day asked
    for today or later (a booking), "date_ahead" for a future day asked for today or earlier (an incident);
    None when it fits. The names are sentences of helpline.bot.language."""
    if step.when == "future" and day < today:
        return "date_passed"
    if step.when == "past" and day > today:
        return "date_ahead"
    return None


def email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0).lower() if match else None


def phone(text: str, region: str) -> str | None:
    """The first valid number in the text, as E.164 (numbers without +country use `region`)."""
    for match in phonenumbers.PhoneNumberMatcher(text, region.upper(), leniency=phonenumbers.Leniency.VALID):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


_ESCAPES_AND_CLASSES = re.compile(r"\\.|\[[^\]]*\]|\{[^}]*\}|\(\?[^)]*\)")
_RUN = re.compile(r"[^\W\d_]+|\d+")


def _spellings(text: str) -> list[str]:
    """The text as written, then with letters and digits joined by a hyphen or by nothing, and digit groups
    joined ("pol 771 203" → "pol-771203", "pol771203"): how customers type reference numbers."""
    hyphen = re.sub(r"(?<=[^\W\d_])[\s.\-/]*(?=\d)", "-", text)
    joined = re.sub(r"(?<=[^\W\d_])[\s.\-/]+(?=\d)", "", text)
    variants = [text, hyphen, joined]
    variants += [re.sub(r"(?<=\d)[ .](?=\d)", "", v) for v in variants]
    return list(dict.fromkeys(variants))


def canonical(value: str, regex: str, example: str | None) -> str:
    """A pattern answer written the company's way: like `example` (same letters/digits runs: its separators and
    letter case), else in the case of the pattern's own letters ("POL-?\\d{6}" → upper case)."""
    if example:
        runs, shape = _RUN.findall(value), _RUN.findall(example)
        if len(runs) == len(shape) and all(r.isdigit() == e.isdigit() for r, e in zip(runs, shape, strict=True)):
            separators = _RUN.split(example)
            out = separators[0]
            for run, model, after in zip(runs, shape, separators[1:], strict=True):
                out += (run.upper() if model.isupper() else run.lower() if model.islower() else run) + after
            if re.fullmatch(regex, out, re.IGNORECASE):
                return out
    letters = [c for c in _ESCAPES_AND_CLASSES.sub("", regex) if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return value.upper()
    if letters and all(c.islower() for c in letters):
        return value.lower()
    return value


def pattern(text: str, regex: str, example: str | None = None) -> str | None:
    """The first match of `regex` (any case) in the text or in its usual re-spacings, written canonically."""
    for spelling in _spellings(text):
        match = re.search(regex, spelling, re.IGNORECASE)
        if match:
            return canonical(match.group(0), regex, example)
    return None


def free_text(text: str) -> str | None:
    cleaned = " ".join(text.split())
    return cleaned or None


def extract(step: StepDefinition, text: str, *, region: str, today: date) -> Any:
    """The answer to `step` found in `text`, as a JSON value; None when the text holds no valid answer.
    Invisible characters a paste carries ("POL\u200b-482913") are dropped before a typed value is read."""
    if step.type == "text":
        return free_text(text)
    text = without_invisible(text)
    if step.type == "yes_no":
        return yes_no(text)
    if step.type == "choice":
        return choice(text, step.choices)
    if step.type == "number":
        return number(text)
    if step.type == "date":
        found = date_value(text, today, past=step.when == "past" or reads_past(step.question))
        return found.isoformat() if found and wrong_side(step, found, today) is None else None
    if step.type == "email":
        return email(text)
    if step.type == "phone":
        return phone(text, step.region or region)
    if step.type == "pattern":
        return pattern(text, step.pattern or "", step.example)
    return None
