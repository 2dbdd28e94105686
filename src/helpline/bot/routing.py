"""Which language's scripts a message is matched against, when the message's words do not show its language.

A short message without accents, or made of words several languages share ("a entrega está atrasada", "parem de
cobrar", "vocês funcionam domingo?"), cannot be placed by its function words alone (`language.language_scores`).
Trusting a guess there sent Portuguese messages to the English scripts. Instead, when the guess is not sure, the
message is scored by the matcher of every language that has scripts of its own, and the language whose matcher is
most confident wins; the message's leaning, else the conversation's language, is a prior: another language must
beat it by `PRIOR_MARGIN`. The matchers' confidences are comparable because each is a calibrated probability that
its top script is right (bot/matching/calibration.py). A language detector library was measured as well (docs/bot.md,
bench/RESULTS.md); the matchers know the company's own vocabulary, which a general detector does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from helpline.bot.langid import identify
from helpline.bot.language import sure_language


class RankingMatcher(Protocol):
    """What routing needs of a matcher (helpline.bot.engine.Matcher)."""

    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]: ...
    def is_out_of_scope(self, text: str) -> bool: ...


# Another language's matcher must be this much more confident than the prior language's to be chosen (probability
# points). Chosen on the dev paraphrases and dev off-topic messages (bench/RESULTS.md, "Language routing").
PRIOR_MARGIN = 0.1
# The character n-gram model's probability (over the five languages) from which its language is taken as sure, and
# from which it names the favourite when the function words name none. Chosen on the same dev sets.
DETECTOR_SURE = 0.8
DETECTOR_LEANING = 0.5


@dataclass(frozen=True)
class Routed:
    """The matcher's answer for the chosen language: `language` is None when every script was a candidate."""

    language: str | None
    ranked: list[tuple[str, float]]
    out_of_scope: bool

    @property
    def confidence(self) -> float:
        """The top script's confidence, 0 when out of scope or nothing ranked."""
        return 0.0 if self.out_of_scope or not self.ranked else float(self.ranked[0][1])


def _ask(matcher: RankingMatcher, language: str | None, text: str, k: int) -> Routed:
    return Routed(language, matcher.rank(text, k), matcher.is_out_of_scope(text))


def message_language(text: str) -> tuple[str | None, str | None]:
    """(sure, favourite): the language `text` is surely written in, else None; and the one it most likely is,
    else None. Sure: its function words lead by language.SURE_MARGIN, or the character n-gram model (bot/langid.py)
    gives it at least DETECTOR_SURE. Favourite: the sure one, else the function words' leaning, else the model's
    guess when it gives at least DETECTOR_LEANING."""
    sure, leaning = sure_language(text)
    if sure is not None:
        return sure, sure
    detected, probability = identify(text)
    if detected is not None and probability >= DETECTOR_SURE:
        return detected, detected
    if leaning is None and detected is not None and probability >= DETECTOR_LEANING:
        return None, detected
    return None, leaning


def route(
    everything: RankingMatcher,
    by_language: Mapping[str, RankingMatcher],
    text: str,
    *,
    prior: str | None,
    k: int = 3,
) -> Routed:
    """Rank the scripts for `text` with the matcher of its language.

    - The message's language is sure (`message_language`): that language's matcher, or every script when no
      script is written only for it.
    - No language has scripts of its own: every script.
    - Otherwise every language's matcher scores the message; the most confident wins, but the favourite (the
      message's likely language, else `prior`, the conversation's) unless another is more confident by
      PRIOR_MARGIN.
    """
    sure, likely = message_language(text)
    if sure is not None or not by_language:
        chosen = by_language.get(sure or "")
        return _ask(chosen, sure, text, k) if chosen is not None else _ask(everything, None, text, k)
    results = {language: _ask(matcher, language, text, k) for language, matcher in by_language.items()}
    favourite = likely if likely in results else prior if prior in results else None
    best = max(results.values(), key=lambda r: r.confidence)
    if favourite is None:
        return best
    if best.language != favourite and best.confidence >= results[favourite].confidence + PRIOR_MARGIN:
        return best
    return results[favourite]
