"""A ScriptMatcher built from any scorer: calibrated softmax confidences and a learned out-of-scope threshold."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from helpline.bot.knowledge import off_topic_questions as off_topic_messages
from helpline.bot.matching.calibration import Calibration, calibrate, softmax
from helpline.bot.matching.recent import Signature, recent, signature
from helpline.bot.matching.scorers import Matrix, Scorer, ScorerFactory

log = logging.getLogger(__name__)

# A training whose scripts differ from a recent one's by at most this many reuses that one's calibration at once.
REUSABLE_CHANGES = 1


class CalibratedMatcher:
    """Fits a scorer on all examples, and calibrates it on held-out examples and held-out scripts first."""

    def __init__(self, method: str, factory: ScorerFactory, *, calibration_rounds: int | None = None) -> None:
        self.method = method
        self._factory = factory
        self._rounds = calibration_rounds
        self._scorer: Scorer | None = None
        self.calibration = Calibration()
        # The bot asks rank() and is_out_of_scope() about the same message: remember the last answer.
        self._last: tuple[str, Matrix, float, Matrix] | None = None
        self._lock = threading.Lock()
        self.settled = threading.Event()

    def fit(self, examples: Sequence[tuple[str, str]]) -> None:
        """Train on (text, script key) pairs. When a recent training of this method differed by one script at
        most, its calibration is used at once and the new one is computed in a background thread (`settled` is
        set when it is in place), so a one-script edit costs one scorer fit, not several."""
        texts = [text for text, _ in examples]
        labels = [label for _, label in examples]
        self.settled = threading.Event()
        if not texts:
            with self._lock:
                self._scorer, self.calibration, self._last = None, Calibration(), None
            self.settled.set()
            return
        sig = signature(texts, labels)
        previous = recent.closest(self.method, sig) if self._rounds is None else None
        if previous is not None and previous[1] <= REUSABLE_CHANGES:
            scorer = self._factory(texts, labels)
            with self._lock:
                self._scorer, self.calibration, self._last = scorer, previous[0], None
            if previous[1] == 0:
                self.settled.set()
                return
            worker = threading.Thread(
                target=self._recalibrate, args=(texts, labels, sig, scorer), name="recalibrate", daemon=True
            )
            worker.start()
            return
        calibration = self._calibrate(texts, labels, sig)
        scorer = self._factory(texts, labels)
        with self._lock:
            self._scorer, self.calibration, self._last = scorer, calibration, None
        self.settled.set()

    def _calibrate(self, texts: list[str], labels: list[str], sig: Signature) -> Calibration:
        rounds = self._rounds if self._rounds is not None else calibration_rounds(len(texts))
        if not rounds:
            return Calibration()
        calibration = calibrate(self._factory, texts, labels, negatives=off_topic_messages(), rounds=rounds)
        recent.remember(self.method, sig, calibration)
        return calibration

    def _recalibrate(self, texts: list[str], labels: list[str], sig: Signature, scorer: Scorer) -> None:
        try:
            calibration = self._calibrate(texts, labels, sig)
            with self._lock:
                if self._scorer is scorer:  # not refitted meanwhile
                    self.calibration, self._last = calibration, None
        except Exception:  # the reused calibration stays; the next retrain calibrates again
            log.exception("background recalibration failed")
        finally:
            self.settled.set()

    def _judge(self, text: str) -> tuple[list[str], Matrix, float, Matrix]:
        """Script keys, their confidences, P(top script right) and the softmax for one message (empty before
        fit)."""
        with self._lock:
            scorer, calibration, last = self._scorer, self.calibration, self._last
        if scorer is None:
            return [], np.zeros(0), 0.0, np.zeros(0)
        if last is not None and last[0] == text:
            return scorer.classes, last[1], last[2], last[3]
        scores = scorer.scores([text])
        if len(scorer.classes) == 1:
            # One script has no rival to be compared with: a zero "no script" column plays the rival.
            scores = np.hstack([scores, np.zeros((1, 1))])
        probs = softmax(scores, calibration.temperature)
        similarity = getattr(scorer, "similarity", None)
        nearest = similarity([text]) if similarity is not None else None
        softmaxed = probs[0, : len(scorer.classes)]
        # The "no script" column of a single script competes in the features, never as the top confidence.
        top = float(calibration.top_probability(probs, nearest)[0]) if calibration.correctness else softmaxed.max()
        confidences = _reshape(probs[0], top)[: len(scorer.classes)]
        with self._lock:
            if self._scorer is scorer:
                self._last = (text, confidences, top, softmaxed)
        return scorer.classes, confidences, top, softmaxed

    def probabilities(self, text: str) -> tuple[list[str], Matrix]:
        """Script keys and their confidences for one message: the top one's is the calibrated probability that it
        is the right script; the others share the rest in proportion to their softmax scores."""
        classes, confidences, _, _ = self._judge(text)
        return classes, confidences

    def rank(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        classes, confidences, _, probs = self._judge(text)
        # Ordered by the softmax: reshaped confidences below the top one may tie with it.
        order = np.argsort(-probs, kind="stable")[:k]
        return [(classes[i], float(confidences[i])) for i in order]

    def scope(self, text: str) -> tuple[float, float]:
        """(in-scope score, cut): P(top script right) and the calibrated cut below which the message is out of
        scope (for the evaluation's curve)."""
        classes, _, top, _ = self._judge(text)
        if not classes:
            return 0.0, 1.0
        return top, self.calibration.threshold

    def is_out_of_scope(self, text: str) -> bool:
        score, cut = self.scope(text)
        return score < cut


def calibration_rounds(examples: int) -> int:
    """Held-out rounds per calibration: many when fits are cheap (a handful of scripts), one for big sets."""
    if examples > 3000:
        return 1
    return 3 if examples > 400 else 10


def _reshape(probs: np.ndarray, top: float) -> np.ndarray:
    """`probs` with the top entry replaced by `top` and the others sharing 1 - top in their proportions, never
    above `top` (so the order holds and the total stays 1)."""
    best = int(np.argmax(probs))
    rest = max(1.0 - float(probs[best]), 1e-12)
    result = np.minimum(probs * (1.0 - top) / rest, top)
    result[best] = top
    return result
