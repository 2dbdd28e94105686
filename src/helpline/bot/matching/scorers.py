"""The raw-score models a calibrated matcher wraps: one row of per-script scores for each text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]


class Scorer(Protocol):
    """A fitted model: `scores(texts)[i, j]` grows with how well text i fits `classes[j]`."""

    classes: list[str]

    def scores(self, texts: Sequence[str]) -> Matrix: ...


ScorerFactory = Callable[[Sequence[str], Sequence[str]], Scorer]
"""Fits a fresh scorer on (texts, labels); calibration calls it on subsets, so it must not keep global state."""
