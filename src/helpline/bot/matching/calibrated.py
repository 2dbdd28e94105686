"""A ScriptMatcher built from any scorer: calibrated softmax confidences and a learned out-of-scope threshold."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from helpline.bot.matching.calibration import Calibration, calibrate, softmax
from helpline.bot.matching.scorers import Matrix, Scorer, ScorerFactory


class CalibratedMatcher:
    """Fits a scorer on all examples, and calibrates it on held-out examples and held-out scripts first."""

    def __init__(self, method: str, factory: ScorerFactory, *, calibration_rounds: int | None = None) -> None:
        self.method = method
        self._factory = factory
        self._rounds = calibration_rounds
        self._scorer: Scorer | None = None
        self.calibration = Calibration()
        # The bot asks rank() and is_out_of_scope() about the same message: remember the last answer.
        self._last: tuple[str, Matrix] | None = None
        self._lock = threading.Lock()

    def fit(self, examples: Sequence[tuple[str, str]]) -> None:
        texts = [text for text, _ in examples]
        labels = [label for _, label in examples]
        if not texts:
            scorer, calibration = None, Calibration()
        else:
            rounds = self._rounds if self._rounds is not None else (1 if len(texts) > 3000 else 3)
            calibration = calibrate(self._factory, texts, labels, rounds=rounds) if rounds else Calibration()
            scorer = self._factory(texts, labels)
        with self._lock:
            self._scorer, self.calibration, self._last = scorer, calibration, None

    def probabilities(self, text: str) -> tuple[list[str], Matrix]:
        """Script keys and their calibrated confidences for one message (empty before fit)."""
        with self._lock:
            scorer, calibration, last = self._scorer, self.calibration, self._last
        if scorer is None:
            return [], np.zeros(0)
        if last is not None and last[0] == text:
            return scorer.classes, last[1]
        scores = scorer.scores([text])
        if len(scorer.classes) == 1:
            # One script has no rival to be compared with: a zero "no script" column plays the rival.
            scores = np.hstack([scores, np.zeros((1, 1))])
        probs = softmax(scores, calibration.temperature)[0, : len(scorer.classes)]
        with self._lock:
            if self._scorer is scorer:
                self._last = (text, probs)
        return scorer.classes, probs

    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        classes, probs = self.probabilities(text)
        order = np.argsort(-probs, kind="stable")[:k]
        return [(classes[i], float(probs[i])) for i in order]

    def scope(self, text: str) -> tuple[float, float]:
        """(in-scope score, cut): the nearest-example similarity and its cut when the scorer has one, else the top
        confidence and its cut; the message is out of scope when the score is below the cut."""
        _, probs = self.probabilities(text)
        if len(probs) == 0:
            return 0.0, 1.0
        with self._lock:
            scorer, calibration = self._scorer, self.calibration
        similarity = getattr(scorer, "similarity", None)
        if calibration.similarity_threshold is not None and similarity is not None:
            return float(similarity([text])[0]), calibration.similarity_threshold
        return float(probs.max()), calibration.threshold

    def is_out_of_scope(self, text: str) -> bool:
        score, cut = self.scope(text)
        return score < cut
