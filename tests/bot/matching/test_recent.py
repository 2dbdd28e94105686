"""A retrain after one script changed reuses a recent calibration at once and recalibrates in the background."""

from __future__ import annotations

import pytest

from helpline.bot.matching import LexicalMatcher
from helpline.bot.matching.calibrated import off_topic_messages
from helpline.bot.matching.calibration import calibrate
from helpline.bot.matching.lexical import LexicalScorer
from helpline.bot.matching.recent import changed_scripts, recent, signature
from tests.bot.matching.conftest import EXAMPLES

EXTRA = [("I want to change my address", "address"), ("update my home address", "address")]


def test_signatures_count_added_removed_and_edited_scripts() -> None:
    texts, labels = [t for t, _ in EXAMPLES], [k for _, k in EXAMPLES]
    base = signature(texts, labels)
    assert changed_scripts(base, signature(texts, labels)) == 0
    assert changed_scripts(base, signature([*texts, "track it"], [*labels, "order"])) == 1
    assert changed_scripts(base, signature([*texts, "track it"], [*labels, "new"])) == 1
    kept = [(t, k) for t, k in EXAMPLES if k != "hours"]
    assert changed_scripts(base, signature([t for t, _ in kept], [k for _, k in kept])) == 1


def test_a_one_script_edit_reuses_the_calibration_then_recalibrates() -> None:
    first = LexicalMatcher()
    first.fit(EXAMPLES)
    assert first.settled.is_set()
    second = LexicalMatcher()
    second.fit([*EXAMPLES, *EXTRA])
    # Used from the next message: the new script ranks already, with the previous build's calibration.
    assert second.rank("I need to update my address")[0][0] == "address"
    assert second.settled.wait(60)
    texts, labels = [t for t, _ in [*EXAMPLES, *EXTRA]], [k for _, k in [*EXAMPLES, *EXTRA]]
    fresh = calibrate(LexicalScorer, texts, labels, negatives=off_topic_messages(), rounds=10)
    assert second.calibration.temperature == fresh.temperature
    assert second.calibration.threshold == pytest.approx(fresh.threshold, abs=1e-3)
    assert second.calibration.correctness == pytest.approx(fresh.correctness, abs=1e-3)


def test_two_changed_scripts_calibrate_before_answering() -> None:
    recent.clear()
    LexicalMatcher().fit(EXAMPLES)
    matcher = LexicalMatcher()
    matcher.fit([*EXAMPLES, *EXTRA, ("reset my password", "password"), ("forgot my password", "password")])
    assert matcher.settled.is_set()
