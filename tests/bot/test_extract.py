"""Answer extraction from natural text, one answer type at a time."""

from __future__ import annotations

from datetime import date

import pytest

from helpline.bot.extract import choice, date_value, email, extract, number, pattern, phone, yes_no
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
    assert pattern("policy pol-2024 ok", r"POL-\d{4}") == "pol-2024"


def test_extract_dispatches_by_type() -> None:
    step = StepDefinition(key="d", question="When?", type="date")
    assert extract(step, "it's 12 May", region="US", today=TODAY) == "2026-05-12"
    assert extract(StepDefinition(key="t", question="?"), "   ", region="US", today=TODAY) is None


def test_step_definitions_are_checked() -> None:
    with pytest.raises(ValueError, match="two choices"):
        StepDefinition(key="c", question="?", type="choice", choices=["only"])
    with pytest.raises(ValueError, match="bad pattern"):
        StepDefinition(key="p", question="?", type="pattern", pattern="(")
