"""The contract between the bot and a script matcher: fit on examples, rank a message, reject what fits no script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ScriptMatcher(Protocol):
    """Matches a customer's message to the script whose example phrasings it resembles."""

    method: str
    """Which method is active (e.g. "tfidf-svm"), shown to operators."""

    def fit(self, examples: Sequence[tuple[str, str]]) -> None:
        """Train on (text, script_key) pairs; replaces anything learned before."""

    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The k most likely script keys, best first, each with a calibrated confidence in [0, 1]."""

    def is_out_of_scope(self, text: str) -> bool:
        """True when no script fits: the bot should fall back to knowledge or escalate."""
