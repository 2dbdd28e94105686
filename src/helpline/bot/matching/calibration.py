"""Turning raw scores into confidences and choosing the out-of-scope threshold from the training data alone."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from helpline.bot.matching.scorers import Matrix, ScorerFactory

# Used when there is too little data to calibrate (fewer than MIN_CLASSES scripts or one example each).
DEFAULT_TEMPERATURE = 0.1
DEFAULT_THRESHOLD = 0.35
MIN_CLASSES = 4
_TEMPERATURES = np.geomspace(0.005, 2.0, 60)


def softmax(scores: Matrix, temperature: float) -> Matrix:
    """Row-wise softmax of scores / temperature."""
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    result: Matrix = e / e.sum(axis=1, keepdims=True)
    return result


@dataclass(frozen=True)
class Calibration:
    """Temperature for the softmax and the cut below which a message is out of scope: on the confidence, or on the
    similarity to the nearest example when the scorer has one (`similarity_threshold`)."""

    temperature: float = DEFAULT_TEMPERATURE
    threshold: float = DEFAULT_THRESHOLD
    similarity_threshold: float | None = None


@dataclass
class _Heldout:
    """Scores a scorer gave to texts it did not see: in-scope ones (with the right column) and pseudo-out-of-scope."""

    in_scores: list[Matrix]
    in_truth: list[np.ndarray]
    out_scores: list[Matrix]
    in_similarity: list[np.ndarray]
    out_similarity: list[np.ndarray]


def _split(
    texts: Sequence[str], labels: Sequence[str], rng: random.Random
) -> tuple[list[int], list[int], list[int]] | None:
    """Indices to train on, in-scope held out, and pseudo-out-of-scope (whole scripts held out)."""
    by_class: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_class[label].append(i)
    classes = sorted(by_class)
    if len(classes) < MIN_CLASSES or all(len(v) < 2 for v in by_class.values()):
        return None
    rng.shuffle(classes)
    # A fifth of the scripts play "unknown demand"; the rest keep ~a fifth of their examples for the in-scope side.
    n_out = max(1, len(classes) // 5)
    out = [i for c in classes[:n_out] for i in by_class[c]]
    train: list[int] = []
    held: list[int] = []
    for c in classes[n_out:]:
        idx = by_class[c][:]
        rng.shuffle(idx)
        n_held = len(idx) // 5 if len(idx) >= 5 else (1 if len(idx) >= 2 else 0)
        held += idx[:n_held]
        train += idx[n_held:]
    return train, held, out


def _collect(
    factory: ScorerFactory, texts: Sequence[str], labels: Sequence[str], rounds: int, seed: int
) -> _Heldout | None:
    rng = random.Random(seed)
    heldout = _Heldout([], [], [], [], [])
    for _ in range(rounds):
        split = _split(texts, labels, rng)
        if split is None:
            return None
        train, held, out = split
        scorer = factory([texts[i] for i in train], [labels[i] for i in train])
        column = {c: j for j, c in enumerate(scorer.classes)}
        similarity = getattr(scorer, "similarity", None)
        if held:
            heldout.in_scores.append(scorer.scores([texts[i] for i in held]))
            heldout.in_truth.append(np.array([column[labels[i]] for i in held]))
            if similarity is not None:
                heldout.in_similarity.append(similarity([texts[i] for i in held]))
        heldout.out_scores.append(scorer.scores([texts[i] for i in out]))
        if similarity is not None:
            heldout.out_similarity.append(similarity([texts[i] for i in out]))
    return heldout if heldout.in_scores else None


def _fit_temperature(heldout: _Heldout) -> float:
    """The temperature minimising NLL of the right script in scope plus cross-entropy to uniform out of scope.

    The second term (as in Outlier Exposure, Hendrycks et al. 2019, https://arxiv.org/abs/1812.04606) keeps a
    scorer that never errs on its few held-out examples from being driven to certainty on everything.
    """
    best, best_loss = DEFAULT_TEMPERATURE, np.inf
    for t in _TEMPERATURES:
        inside = np.concatenate(
            [
                -np.log(np.clip(softmax(scores, float(t))[np.arange(len(truth)), truth], 1e-12, None))
                for scores, truth in zip(heldout.in_scores, heldout.in_truth, strict=True)
            ]
        )
        outside = np.concatenate(
            [-np.log(np.clip(softmax(scores, float(t)), 1e-12, None)).mean(axis=1) for scores in heldout.out_scores]
        )
        loss = float(inside.mean() + outside.mean())
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def _balanced_cut(inside: np.ndarray, good: np.ndarray, outside: np.ndarray) -> float:
    """The cut t maximising (share of `good` in-scope values >= t) + (share of out-of-scope values < t).

    The figure is constant between neighbouring candidates, so take the middle of the best run rather than its
    edge, which small example sets would otherwise put right on one example.
    """
    candidates = np.unique(np.concatenate([inside, outside, [0.0, 1.0]]))
    values = np.array([np.mean(good & (inside >= t)) + np.mean(outside < t) for t in candidates])
    best = int(np.argmax(values))
    last = best
    while last + 1 < len(values) and values[last + 1] == values[best]:
        last += 1
    low = candidates[best - 1] if best > 0 else 0.0
    return float((low + candidates[last]) / 2)


def _fit_threshold(heldout: _Heldout, temperature: float) -> float:
    """The confidence cut that best balances right-script-accepted (in scope) and rejected (out of scope) rates."""
    in_conf, in_right = [], []
    for scores, truth in zip(heldout.in_scores, heldout.in_truth, strict=True):
        p = softmax(scores, temperature)
        in_conf.append(p.max(axis=1))
        in_right.append(p.argmax(axis=1) == truth)
    out_conf = np.concatenate([softmax(s, temperature).max(axis=1) for s in heldout.out_scores])
    return _balanced_cut(np.concatenate(in_conf), np.concatenate(in_right), out_conf)


def _fit_similarity_threshold(heldout: _Heldout) -> float | None:
    """The nearest-example similarity cut balancing accepted in-scope and rejected held-out-script messages.

    Unlike the top confidence, this does not grow as scripts get fewer: with five scripts, a message about none
    of them still puts most of its probability on one.
    """
    if not heldout.in_similarity or not heldout.out_similarity:
        return None
    inside = np.concatenate(heldout.in_similarity)
    return _balanced_cut(inside, np.ones(len(inside), dtype=bool), np.concatenate(heldout.out_similarity))


def calibrate(
    factory: ScorerFactory, texts: Sequence[str], labels: Sequence[str], *, rounds: int = 2, seed: int = 0
) -> Calibration:
    """Fit temperature and out-of-scope threshold on held-out examples and held-out whole scripts."""
    heldout = _collect(factory, texts, labels, rounds, seed)
    if heldout is None:
        return Calibration()
    temperature = _fit_temperature(heldout)
    return Calibration(temperature, _fit_threshold(heldout, temperature), _fit_similarity_threshold(heldout))
