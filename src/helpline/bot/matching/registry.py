"""Which matching methods this install can run, and the product's default among them.

The default is `use-multilingual-tfidf-svm`: it runs on numpy from weights inside a default dependency, reads
Portuguese and Spanish as well as English, and costs ~7 ms per message. `minilm-tfidf-svm` is English-only and
slower in numpy (bench/RESULTS.md), so it is offered, never chosen by itself. `tfidf-svm` needs scikit-learn only.
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


def semantic_available() -> bool:
    """True when the default sentence-embedding model (USE multilingual, a default dependency) is installed."""
    return backends.use_available()


def _use() -> ScriptMatcher:
    from helpline.bot.matching.encoder import shared_encoder
    from helpline.bot.matching.semantic import SemanticMatcher

    return SemanticMatcher(shared_encoder(backends.USE, backends.load_use))


def _minilm() -> ScriptMatcher:
    from helpline.bot.matching.encoder import Backend, shared_encoder
    from helpline.bot.matching.semantic import SemanticMatcher

    def load() -> Backend:
        from helpline.bot.matching.bert import MiniLM

        return MiniLM.from_package()

    return SemanticMatcher(shared_encoder(backends.MINILM, load))


def methods() -> dict[str, Callable[[], ScriptMatcher]]:
    """Method name → a factory of fresh, unfitted matchers; the default first."""
    available: dict[str, Callable[[], ScriptMatcher]] = {}
    if backends.use_available():
        available[USE_METHOD] = _use
    available[LEXICAL] = LexicalMatcher
    if backends.minilm_available():
        available[MINILM_METHOD] = _minilm
    return available


def knowledge_encoder() -> Encoder | None:
    """The sentence encoder that scores knowledge articles (the default model), or None for TF-IDF retrieval."""
    from helpline.bot.matching.encoder import shared_encoder

    return shared_encoder(backends.USE, backends.load_use) if backends.use_available() else None


def default_matcher() -> ScriptMatcher:
    """The product's default: the multilingual sentence-embedding matcher, else lexical."""
    return next(iter(methods().values()))()
