"""Calibration: temperature and out-of-scope threshold learned from held-out examples and held-out scripts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from helpline.bot.matching.calibration import DEFAULT_THRESHOLD, Calibration, calibrate, softmax
from helpline.bot.matching.scorers import Matrix


class _Perfect:
    """Scores 1 for the script named in the text and 0.5 for one other: never wrong, but held-out scripts lean."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        self.classes = sorted(set(labels))

    def scores(self, texts: Sequence[str]) -> Matrix:
        rows = np.array([[1.0 if c in t else 0.0 for c in self.classes] for t in texts])
        for i, text in enumerate(texts):
            rows[i, len(text) % len(self.classes)] = max(rows[i, len(text) % len(self.classes)], 0.5)
        return rows


def test_softmax_rows_sum_to_one_and_keep_the_order() -> None:
    p = softmax(np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0]]), 0.5)
    assert p.sum(axis=1) == pytest.approx([1.0, 1.0])
    assert list(p[0].argsort()) == [2, 1, 0]


def test_a_flawless_scorer_does_not_collapse_to_certainty() -> None:
    labels = [f"s{n}" for n in range(8) for _ in range(6)]
    texts = [f"say {label} #{i}" for i, label in enumerate(labels)]
    calibration = calibrate(_Perfect, texts, labels, rounds=2, negatives=["nothing here", "weather today?"])
    # A message of no script leans (0.5) towards one: it must come out below the threshold, a known one above.
    inside = calibration.top_probability(softmax(np.array([[1.0, 0.5] + [0.0] * 6]), calibration.temperature), None)
    outside = calibration.top_probability(softmax(np.array([[0.5] + [0.0] * 7]), calibration.temperature), None)
    assert calibration.correctness is not None
    assert outside[0] < calibration.threshold <= inside[0]
    assert calibration.temperature > 0.05


def test_the_correctness_model_grows_with_the_margin() -> None:
    calibration = Calibration(correctness=(-3.0, 2.0, 4.0))
    close = calibration.top_probability(np.array([[0.5, 0.45, 0.05]]), None)[0]
    clear = calibration.top_probability(np.array([[0.5, 0.1, 0.4]]), None)[0]
    assert 0.0 < close < clear < 1.0


def test_too_little_data_keeps_the_defaults() -> None:
    assert calibrate(_Perfect, ["a", "b"], ["a", "b"]) == Calibration()
    assert Calibration().threshold == DEFAULT_THRESHOLD
