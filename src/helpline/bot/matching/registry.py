"""Which matching methods this install can run, and the product's default among them.

The default is `use-multilingual-tfidf-svm`: it runs on numpy from weights inside a default dependency, reads
Portuguese and Spanish as well as English, and costs ~7 ms per message. `use-minilm-tfidf-svm` (when the MiniLM
weights are installed) joins MiniLM-L6 to it for English matchers: +3.6 points at 10 examples per script in
cross-validation on BANKING77's training split and fewer wrong starts on the dev paraphrases, but it started two
fewer of the 47 shipped test paraphrases, so it is not the default yet (bench/RESULTS.md). `minilm-tfidf-svm`
(onnxruntime, else numpy) is English-only, so it is offered, never chosen by itself. `tfidf-svm` needs
scikit-learn only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from helpline.bot.matching import backends
from helpline.bot.matching.lexical import LexicalMatcher
from helpline.bot.matching.protocol import ScriptMatcher

if TYPE_CHECKING:
    from helpline.bot.matching.encoder import Encoder

LEXICAL = "tfidf-svm"
USE_METHOD = "use-multilingual-tfidf-svm"
MINILM_METHOD = "minilm-tfidf-svm"
ENSEMBLE_METHOD = "use-minilm-tfidf-svm"
# Block weights of the ensemble (TF-IDF 1): chosen by 10-shot cross-validation on BANKING77's training split
# (3 draws, 3,000 other training rows scored): USE / MiniLM 1.5 / 2 → 82.2 %, 2 / 2 → 81.7 %, 1 / 2 → 82.1 %,
# 2 / 2.5 → 82.0 %; MiniLM alone 2 → 82.1 %, USE alone 2 → 78.5 % (bench/RESULTS.md).
ENSEMBLE_WEIGHTS = (1.5, 2.0)


def semantic_available() -> bool:
    """True when the default sentence-embedding model (USE multilingual, a default dependency) is installed."""
    return backends.use_available()


def _use() -> ScriptMatcher:
    from helpline.bot.matching.encoder import shared_encoder
    from helpline.bot.matching.semantic import SemanticMatcher

    return SemanticMatcher(shared_encoder(backends.USE, backends.load_use))


def _minilm_encoder() -> Encoder:
    encoder = minilm_encoder()
    assert encoder is not None  # offered by methods() only when installed
    return encoder


def _minilm() -> ScriptMatcher:
    from helpline.bot.matching.semantic import SemanticMatcher

    return SemanticMatcher(_minilm_encoder())


def _ensemble() -> ScriptMatcher:
    from helpline.bot.matching.encoder import shared_encoder
    from helpline.bot.matching.semantic import SemanticMatcher

    use_weight, minilm_weight = ENSEMBLE_WEIGHTS
    blocks = [(shared_encoder(backends.USE, backends.load_use), use_weight), (_minilm_encoder(), minilm_weight)]
    return SemanticMatcher(blocks=blocks, method=ENSEMBLE_METHOD)


def methods() -> dict[str, Callable[[], ScriptMatcher]]:
    """Method name → a factory of fresh, unfitted matchers; the default first."""
    available: dict[str, Callable[[], ScriptMatcher]] = {}
    if backends.use_available():
        available[USE_METHOD] = _use
    if backends.use_available() and backends.minilm_available():
        available[ENSEMBLE_METHOD] = _ensemble
    available[LEXICAL] = LexicalMatcher
    if backends.minilm_available():
        available[MINILM_METHOD] = _minilm
    return available


def knowledge_encoder() -> Encoder | None:
    """The sentence encoder that scores knowledge articles (the default model), or None for TF-IDF retrieval."""
    return use_encoder()


def use_encoder() -> Encoder | None:
    """The process's shared USE multilingual encoder (512 dimensions), or None when its package is missing."""
    from helpline.bot.matching.encoder import shared_encoder

    return shared_encoder(backends.USE, backends.load_use) if backends.use_available() else None


def minilm_encoder() -> Encoder | None:
    """The process's shared MiniLM encoder (384 dimensions; onnxruntime, else numpy), or None when not installed."""
    from helpline.bot.matching.encoder import shared_encoder

    return shared_encoder(backends.MINILM, backends.load_minilm) if backends.minilm_available() else None


def default_matcher() -> ScriptMatcher:
    """The product's default: the multilingual sentence-embedding matcher, else lexical."""
    return next(iter(methods().values()))()
