"""Answer extraction from natural text, one answer type at a time."""

from __future__ import annotations

from datetime import date

import pytest

from helpline.bot.extract import (
    choice,
    date_value,
    dont_know,
    email,
    extract,
    find_date,
    number,
    pattern,
    phone,
    yes_no,
)
from helpline.bot.schemas import StepDefinition

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("it's 12 May", date(2026, 5, 12)),
        ("on the 3rd of march 2025", date(2025, 3, 3)),
        ("May 12th", date(2026, 5, 12)),
        ("foi dia 5 de março", date(2026, 3, 5)),
        ("el 7 de julio de 2024", date(2024, 7, 7)),
        ("2026-01-31", date(2026, 1, 31)),
        ("31/01/2026", date(2026, 1, 31)),
        ("12/31/2026", date(2026, 12, 31)),
        ("yesterday", date(2026, 11, 22)),
        ("amanhã de manhã", date(2026, 11, 24)),
        ("30 February", None),
        ("no idea", None),
    ],
)
def test_dates(text: str, expected: date | None) -> None:
    assert date_value(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("my number is +55 11 98765-4321", "US", "+5511987654321"),
        ("call me on (11) 98765-4321", "BR", "+5511987654321"),
        ("+1 650 253 0000 please", "BR", "+16502530000"),
        ("12345", "BR", None),
    ],
)
def test_phones(text: str, region: str, expected: str | None) -> None:
    assert phone(text, region) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes please", True),
        ("Sim, por favor", True),
        ("oui", True),
        ("sure", True),
        ("no thanks", False),
        ("Não", False),
        ("nope", False),
        ("maybe", None),
    ],
)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "Morning"),
        ("the second one", "Afternoon"),
        ("a segunda", "Afternoon"),
        ("afternoon is better", "Afternoon"),
        ("mornin", "Morning"),
        ("Evening", None),
    ],
)
def test_choices(text: str, expected: str | None) -> None:
    assert choice(text, ["Morning", "Afternoon"]) == expected


def test_numbers_emails_patterns() -> None:
    assert number("order 12345 please") == 12345
    assert number("R$ 1.234,50") == 1234.5
    assert number("1,234.50") == 1234.5
    assert number("none") is None
    assert email("write to Ana.Silva@Example.com.br thanks") == "ana.silva@example.com.br"
    assert email("ana at example") is None
    assert pattern("policy pol-2024 ok", r"POL-\d{4}") == "POL-2024"


def test_extract_dispatches_by_type() -> None:
    step = StepDefinition(key="d", question="When?", type="date")
    assert extract(step, "it's 12 May", region="US", today=TODAY) == "2026-05-12"
    assert extract(StepDefinition(key="t", question="?"), "   ", region="US", today=TODAY) is None


def test_step_definitions_are_checked() -> None:
    with pytest.raises(ValueError, match="two choices"):
        StepDefinition(key="c", question="?", type="choice", choices=["only"])
    with pytest.raises(ValueError, match="bad pattern"):
        StepDefinition(key="p", question="?", type="pattern", pattern="(")


@pytest.mark.parametrize(
    ("text", "expected", "sure"),
    [
        # TODAY is Monday 23 November 2026.
        ("anteontem", date(2026, 11, 21), True),
        ("bateram no meu carro anteontem à tarde", date(2026, 11, 21), True),
        ("the day before yesterday", date(2026, 11, 21), True),
        ("ontem", date(2026, 11, 22), True),
        ("my car was stolen last night", date(2026, 11, 22), True),
        ("last Monday", date(2026, 11, 16), True),
        ("last friday", date(2026, 11, 20), True),
        ("na segunda passada", date(2026, 11, 16), True),
        ("el lunes pasado", date(2026, 11, 16), True),
        ("next Tuesday", date(2026, 11, 24), True),
        ("próxima sexta-feira", date(2026, 11, 27), True),
        ("hace dos días", date(2026, 11, 21), True),
        ("há 3 dias", date(2026, 11, 20), True),
        ("it happened 2 days ago", date(2026, 11, 21), True),
        ("a week ago", date(2026, 11, 16), True),
        ("anteayer", date(2026, 11, 21), True),
        ("05/06/2026", date(2026, 6, 5), False),  # 5 June or May 6: confirmed with the customer
        ("on Friday", date(2026, 11, 27), False),
        ("Next Tuesday, 14 July", date(2026, 7, 14), True),  # an explicit date wins over the weekday
        # Spoken of in the past, a bare weekday is the latest one ("it was Tuesday" is not tomorrow).
        ("no, it was Tuesday", date(2026, 11, 17), False),
        ("não, foi na terça", date(2026, 11, 17), False),
        ("fue el viernes", date(2026, 11, 20), False),
        # A day of the month alone: this month's when on the right side of today, else confirmed.
        ("foi dia 20", date(2026, 11, 20), True),
        ("actually it was the 20th", date(2026, 11, 20), True),
        ("dia 25", date(2026, 11, 25), True),
        ("foi dia 25", date(2026, 10, 25), False),
        ("el día 5", date(2026, 12, 5), False),
    ],
)
def test_relative_and_uncertain_dates(text: str, expected: date, sure: bool) -> None:
    assert find_date(text, TODAY) == (expected, sure)


def test_a_question_about_the_past_reads_a_bare_weekday_as_the_latest() -> None:
    happened = StepDefinition(key="d", question="When did it happen?", type="date")
    suits = StepDefinition(key="d", question="Which day suits you?", type="date")
    assert extract(happened, "on Friday", region="US", today=TODAY) == "2026-11-20"
    assert extract(suits, "on Friday", region="US", today=TODAY) == "2026-11-27"
    quando = StepDefinition(key="d", question="Quando aconteceu?", type="date")
    assert extract(quando, "na sexta", region="BR", today=TODAY) == "2026-11-20"


@pytest.mark.parametrize(
    ("text", "unknown", "verdict"),
    [
        ("I don't know", True, None),
        ("no idea", True, False),
        ("não sei", True, False),  # holds "não": the runner reads dont_know first
        ("não lembro", True, False),
        ("no lo sé", True, False),
        ("no", False, False),
        ("👍", False, True),
        ("👎🏽", False, False),
    ],
)
def test_dont_know_and_thumbs(text: str, unknown: bool, verdict: bool | None) -> None:
    assert (dont_know(text), yes_no(text)) == (unknown, verdict)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("POL 771203", "POL-771203"),
        ("pol771203", "POL-771203"),
        ("my policy is pol - 771203", "POL-771203"),
        ("POL-771 203", "POL-771203"),
        ("It's POL118356", "POL-118356"),
        ("AUT-2291-7", None),
    ],
)
def test_patterns_tolerate_spaces_and_case(text: str, expected: str | None) -> None:
    assert pattern(text, r"POL-?\d{6}", "POL-123456") == expected


def test_pattern_case_follows_the_pattern_without_an_example() -> None:
    assert pattern("my ref is ab 1234", r"AB\d{4}") == "AB1234"
    assert pattern("REF x-12", r"x-\d+") == "x-12"
