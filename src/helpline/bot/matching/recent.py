"""Calibrations of recent trainings, so a retrain after one script changed can reuse one instead of waiting for it.

Calibrating refits the scorer several times on held-out splits (most of a retrain's time with 100 scripts); a
calibration describes how confident the scorer is on this kind of data, which one added, edited or removed script
barely moves. The bot reuses it at once and recalibrates in the background (helpline.bot.matching.calibrated).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

from helpline.bot.matching.calibration import Calibration

# Several matchers are trained per build (all scripts, and one per language): keep a few builds' worth.
_KEPT = 16

Signature = dict[str, str]
"""Script key → digest of its example phrasings."""


def signature(texts: Sequence[str], labels: Sequence[str]) -> Signature:
    """What a calibration was computed on, per script."""
    by_label: dict[str, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        by_label.setdefault(label, []).append(text)
    return {label: hashlib.sha256("\n".join(sorted(group)).encode()).hexdigest() for label, group in by_label.items()}


def changed_scripts(old: Signature, new: Signature) -> int:
    """How many scripts were added, removed or given other examples between two signatures."""
    return sum(old.get(k) != new.get(k) for k in old.keys() | new.keys())


class RecentCalibrations:
    """A small, thread-safe memory of (method, signature) → calibration, newest last."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[Signature, Calibration]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, method: str, sig: Signature, calibration: Calibration) -> None:
        key = (method, _digest(sig))
        with self._lock:
            self._items[key] = (sig, calibration)
            self._items.move_to_end(key)
            while len(self._items) > _KEPT:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def closest(self, method: str, sig: Signature) -> tuple[Calibration, int] | None:
        """The remembered calibration of `method` whose scripts differ least from `sig`, with that count."""
        with self._lock:
            candidates = [(old, calibration) for (m, _), (old, calibration) in self._items.items() if m == method]
        scored = [(changed_scripts(old, sig), calibration) for old, calibration in candidates]
        if not scored:
            return None
        changed, calibration = min(scored, key=lambda item: item[0])
        return calibration, changed


def _digest(sig: Signature) -> str:
    return hashlib.sha256("\n".join(f"{k}={v}" for k, v in sorted(sig.items())).encode()).hexdigest()


recent = RecentCalibrations()
