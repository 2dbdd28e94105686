"""The shipped scripts' examples stay apart from the paraphrases that measure them (bot/seeds/paraphrases.csv is
a test set): no example equals or nearly repeats a test paraphrase, so `helpline bot eval` measures fresh
wordings. Natural wordings of the seeded demands in EN, PT and ES start the right script."""

from __future__ import annotations

import csv
import difflib
from importlib import resources

from helpline.bot.language import fold, words
from helpline.bot.scripts import parse_definitions
from helpline.bot.seeds import seed_documents

# Closer than this (difflib ratio on folded text, or shared words over all words) is a near-duplicate.
MAX_RATIO = 0.75
MAX_WORD_OVERLAP = 0.65  # "where is my delivery" vs "my delivery is late" (0.6) are different sentences


def _paraphrases() -> list[str]:
    text = resources.files("helpline.bot.seeds").joinpath("paraphrases.csv").read_text(encoding="utf-8")
    return [row["text"] for row in csv.DictReader(text.splitlines())]


def _examples() -> list[tuple[str, str]]:
    return [(d.key, e) for doc in seed_documents() for d in parse_definitions(doc) for e in (d.name, *d.examples)]


def _closeness(a: str, b: str) -> tuple[float, float]:
    ratio = difflib.SequenceMatcher(None, fold(a), fold(b)).ratio()
    wa, wb = set(words(a)), set(words(b))
    overlap = len(wa & wb) / len(wa | wb) if wa | wb else 1.0
    return ratio, overlap


def test_no_example_repeats_a_test_paraphrase() -> None:
    paraphrases = _paraphrases()
    assert len(paraphrases) >= 40
    close = [
        (key, example, paraphrase, round(ratio, 2), round(overlap, 2))
        for key, example in _examples()
        for paraphrase in paraphrases
        for ratio, overlap in [_closeness(example, paraphrase)]
        if ratio >= MAX_RATIO or overlap >= MAX_WORD_OVERLAP
    ]
    assert close == []


def test_the_check_sees_near_duplicates() -> None:
    ratio, overlap = _closeness("A truck backed into my parked car this morning!", "a truck backed into my parked car")
    assert ratio >= MAX_RATIO and overlap >= MAX_WORD_OVERLAP


def test_every_seeded_demand_is_offered_in_english_portuguese_and_spanish() -> None:
    keys = {key for key, _ in _examples()}
    for demand in ("insurance-claim", "order-status", "appointment", "cancellation", "opening-hours"):
        assert {f"{demand}-{lang}" for lang in ("en", "pt", "es")} <= keys
