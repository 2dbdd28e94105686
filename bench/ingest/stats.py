"""Percentiles without numpy (nearest-rank on a sorted list)."""

from __future__ import annotations

import math


def percentile(sorted_values: list[float], pct: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return round(sorted_values[rank - 1], 2)
