"""The default lexical matcher: ranking, calibrated confidences and out-of-scope rejection on a tiny set."""

from __future__ import annotations

import pytest

from helpline.bot.matching import LexicalMatcher, ScriptMatcher, default_matcher, semantic_available


@pytest.fixture(scope="module")
def matcher() -> LexicalMatcher:
    from tests.bot.matching.conftest import EXAMPLES

    fitted = LexicalMatcher()
    fitted.fit(EXAMPLES)
    return fitted


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("I had an accident and want to make a claim", "claim"),
        ("meu pedido não chegou ainda", "order"),
        ("can I book an appointment for friday", "appointment"),
        ("quero cancelar o plano", "cancel"),
        ("what time do you open", "hours"),
    ],
)
def test_rank_puts_the_right_script_first(matcher: LexicalMatcher, text: str, script: str) -> None:
    assert matcher.rank(text)[0][0] == script
    assert not matcher.is_out_of_scope(text)


def test_confidences_are_calibrated_and_ordered(matcher: LexicalMatcher) -> None:
    ranked = matcher.rank("where is my package", k=5)
    assert ranked[0][0] == "order"
    assert len(ranked) == 5
    confidences = [c for _, c in ranked]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert matcher.rank("where is my package", k=2) == ranked[:2]


@pytest.mark.parametrize("text", ["the quantum physics of black holes", "receita de bolo de chocolate com morango"])
def test_an_unrelated_message_is_out_of_scope(matcher: LexicalMatcher, text: str) -> None:
    assert matcher.is_out_of_scope(text)


def test_the_threshold_is_learned_not_the_default(matcher: LexicalMatcher) -> None:
    assert 0.0 < matcher.calibration.threshold < 1.0
    assert matcher.method == "tfidf-svm"


def test_refit_replaces_what_was_learned(examples: list[tuple[str, str]]) -> None:
    fitted = LexicalMatcher()
    fitted.fit(examples)
    fitted.fit([(text, "new-" + key) for text, key in examples])
    assert fitted.rank("where is my order")[0][0] == "new-order"


def test_before_fit_and_with_no_examples_everything_is_out_of_scope() -> None:
    fresh = LexicalMatcher()
    assert fresh.rank("hello") == []
    assert fresh.is_out_of_scope("hello")
    fresh.fit([])
    assert fresh.is_out_of_scope("hello")


def test_one_or_two_scripts_still_work() -> None:
    one = LexicalMatcher()
    one.fit([("where is my order", "order"), ("track my package", "order")])
    assert one.rank("where is my order")[0][0] == "order"
    assert not one.is_out_of_scope("where is my order")
    assert one.is_out_of_scope("book a table for two tonight")
    two = LexicalMatcher()
    two.fit([("where is my order", "order"), ("cancel my plan", "cancel")])
    assert two.rank("please cancel my plan")[0][0] == "cancel"
    assert [key for key, _ in two.rank("where is my order", k=3)] == ["order", "cancel"]


def test_default_matcher_says_which_method_is_active() -> None:
    matcher: ScriptMatcher = default_matcher()
    expected = "use-multilingual" if semantic_available() else "tfidf-svm"
    assert matcher.method.startswith(expected)
