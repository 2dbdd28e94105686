"""The language of a sentence from its letters: py3langid's character n-gram model, limited to the bot's languages.

Function words (`language.guess_language`) place greetings and most requests, but not a short message without
them ("cancela tudo", "hail left dents all over my bonnet", "a qué hora abren"). py3langid (a maintained fork of
langid.py: numpy only, a 4.5 MB model inside the wheel, ~0.05 ms of CPU per message, ~0.8 s to load once per
process and ~55 MB resident) reads those from character n-grams: on the dev paraphrases and short EN/PT/ES messages
it placed 141 of 148, against 131 placed (16 unsure, 1 wrong) by the function words (bench/RESULTS.md, "Language
routing"). Its mistakes are one-word messages ("sim", "hello"), which the function words place, so the two are
combined in bot/routing.py.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from helpline.bot.language import LANGUAGES

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


@functools.cache
def _identifier() -> Any | None:
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]
    except ImportError:  # a custom install without it: routing falls back to the matchers' confidences
        log.warning("py3langid is not installed; language routing uses the function words and the matchers only")
        return None
    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    full.set_languages(list(LANGUAGES))
    # Rebuilt from the five languages' columns only, so the 97-language matrix is freed (~25 MB less resident).
    return LanguageIdentifier(
        full.nb_ptc,
        full.nb_pc,
        list(full.nb_classes),
        full.tk_nextmove,
        full.tk_output,
        norm_probs=True,
        tk_row=full.tk_row,
    )


def identify(text: str) -> tuple[str | None, float]:
    """(language, probability) among LANGUAGES for `text` by its character n-grams, probabilities over those five
    languages summing to 1; (None, 0.0) for text without letters or without the model."""
    if not any(c.isalpha() for c in text):
        return None, 0.0
    with _LOCK:  # loaded once per process; classify itself only reads the model
        identifier = _identifier()
    if identifier is None:
        return None, 0.0
    language, probability = identifier.classify(text)
    return str(language), float(probability)
