"""Turning raw scores into confidences and choosing the out-of-scope threshold from the training data alone."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from helpline.bot.matching.scorers import Matrix, ScorerFactory

# Used when there is too little data to calibrate (fewer than MIN_CLASSES scripts or one example each).
DEFAULT_TEMPERATURE = 0.1
DEFAULT_THRESHOLD = 0.35
MIN_CLASSES = 4
# The share of generic off-topic messages the out-of-scope cut must reject at least.
OFF_TOPIC_REJECTED = 0.95
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
    """Temperature for the softmax, the correctness model that turns a message's scores into the probability that
    the top script is the right one, and the cut on that probability below which a message is out of scope.

    `correctness` holds logistic-regression weights, intercept first, over `confidence_features`; None (too little
    data to learn it) leaves the top softmax confidence as the probability.
    """

    temperature: float = DEFAULT_TEMPERATURE
    threshold: float = DEFAULT_THRESHOLD
    correctness: tuple[float, ...] | None = None

    def top_probability(self, probs: Matrix, similarity: np.ndarray | None) -> np.ndarray:
        """P(top script right) per row of softmax `probs`, given each message's nearest-example similarity."""
        if self.correctness is None:
            top: np.ndarray = probs.max(axis=1)
            return top
        return self.probability_of(confidence_features(probs, similarity))

    def probability_of(self, features: Matrix) -> np.ndarray:
        """The correctness model on rows of `confidence_features`."""
        assert self.correctness is not None
        weights = np.asarray(self.correctness)
        z = weights[0] + features @ weights[1:]
        result: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        return result


def confidence_features(probs: Matrix, similarity: np.ndarray | None) -> Matrix:
    """(top confidence, its margin over the second, nearest-example similarity if the scorer has one) per row.

    The margin says whether two scripts compete for the message; the similarity whether any example is near —
    with five scripts, a message about none of them still puts most of its probability on one.
    """
    ordered = np.sort(probs, axis=1)
    second = ordered[:, -2] if probs.shape[1] > 1 else np.zeros(len(probs))
    columns = [ordered[:, -1], ordered[:, -1] - second]
    if similarity is not None:
        columns.append(np.asarray(similarity, dtype=np.float64))
    return np.column_stack(columns)


@dataclass
class _Heldout:
    """Scores a scorer gave to texts it did not see: in-scope ones (with the right column), whole held-out scripts
    and generic off-topic messages (`negatives`), with nearest-example similarities when the scorer has them."""

    in_scores: list[Matrix] = field(default_factory=list)
    in_truth: list[np.ndarray] = field(default_factory=list)
    out_scores: list[Matrix] = field(default_factory=list)
    negative_scores: list[Matrix] = field(default_factory=list)
    in_similarity: list[np.ndarray] = field(default_factory=list)
    out_similarity: list[np.ndarray] = field(default_factory=list)
    negative_similarity: list[np.ndarray] = field(default_factory=list)


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
    factory: ScorerFactory,
    texts: Sequence[str],
    labels: Sequence[str],
    negatives: Sequence[str],
    rounds: int,
    seed: int,
) -> _Heldout | None:
    rng = random.Random(seed)
    heldout = _Heldout()
    for _ in range(rounds):
        split = _split(texts, labels, rng)
        if split is None:
            return None
        train, held, out = split
        scorer = factory([texts[i] for i in train], [labels[i] for i in train])
        column = {c: j for j, c in enumerate(scorer.classes)}
        similarity = getattr(scorer, "similarity", None)
        groups = [
            ([texts[i] for i in held], heldout.in_scores, heldout.in_similarity),
            ([texts[i] for i in out], heldout.out_scores, heldout.out_similarity),
            (list(negatives), heldout.negative_scores, heldout.negative_similarity),
        ]
        for group, scores, similarities in groups:
            if group:
                scores.append(scorer.scores(group))
                if similarity is not None:
                    similarities.append(similarity(group))
        if held:
            heldout.in_truth.append(np.array([column[labels[i]] for i in held]))
        # Let this round's model go before the next one is fitted: with 100 scripts each holds tens of MB, and a
        # background recalibration runs beside the serving model (the process's peak memory).
        del scorer, similarity
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


def _features(heldout: _Heldout, which: str, temperature: float) -> Matrix | None:
    scores: list[Matrix] = getattr(heldout, f"{which}_scores")
    similarity: list[np.ndarray] = getattr(heldout, f"{which}_similarity")
    if not scores:
        return None
    probs = np.vstack([softmax(s, temperature) for s in scores])
    return confidence_features(probs, np.concatenate(similarity) if similarity else None)


def _fit_correctness(heldout: _Heldout, temperature: float) -> tuple[tuple[float, ...], float] | None:
    """Logistic regression of "top script right" on the confidence features, and the out-of-scope cut on it.

    Positives: held-out in-scope examples whose top script is right; negatives: the wrong ones, the held-out
    scripts' examples and the generic off-topic messages. Each of the three sources weighs as much in total as
    the in-scope side, so neither their counts nor the number of scripts tilt the probability. Platt-style
    (Platt 1999), on features rather than one score.
    """
    inside = _features(heldout, "in", temperature)
    if inside is None:
        return None
    right = np.concatenate(
        [softmax(s, temperature).argmax(axis=1) == t for s, t in zip(heldout.in_scores, heldout.in_truth, strict=True)]
    )
    outside = [
        f
        for f in (_features(heldout, "out", temperature), _features(heldout, "negative", temperature))
        if f is not None
    ]
    if not outside or not right.any():
        return None
    x = np.vstack([inside, *outside])
    y = np.concatenate([right, *[np.zeros(len(f), dtype=bool) for f in outside]])
    weights = np.concatenate(
        [np.full(len(inside), 1.0 / len(inside)), *[np.full(len(f), 1.0 / len(f) / len(outside)) for f in outside]]
    )
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0).fit(x, y, sample_weight=weights * len(weights))
    coefficients = (float(model.intercept_[0]), *(float(c) for c in model.coef_[0]))
    calibration = Calibration(temperature, correctness=coefficients)
    p_in = calibration.probability_of(inside)
    p_out = np.concatenate([calibration.probability_of(f) for f in outside])
    cut = _balanced_cut(p_in, right, p_out)
    negatives = _features(heldout, "negative", temperature)
    if negatives is not None:
        # Held-out examples come from the script author's own pen and score higher than customers' fresh wordings,
        # which pushes the balanced cut up; generic off-topic messages are what the cut must stop, so it need not
        # be higher than what rejects nearly all of them.
        cut = min(cut, float(np.quantile(calibration.probability_of(negatives), OFF_TOPIC_REJECTED)))
    return coefficients, cut


def calibrate(
    factory: ScorerFactory,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    negatives: Sequence[str] = (),
    rounds: int = 2,
    seed: int = 0,
) -> Calibration:
    """Fit temperature, correctness model and out-of-scope cut on held-out examples, held-out whole scripts and
    the generic off-topic `negatives` (texts no script of any business covers)."""
    heldout = _collect(factory, texts, labels, negatives, rounds, seed)
    if heldout is None:
        return Calibration()
    temperature = _fit_temperature(heldout)
    fitted = _fit_correctness(heldout, temperature)
    if fitted is None:
        return Calibration(temperature, _fit_threshold(heldout, temperature))
    return Calibration(temperature, fitted[1], fitted[0])


def _fit_threshold(heldout: _Heldout, temperature: float) -> float:
    """The top-confidence cut that best balances right-script-accepted and rejected held-out-script rates (when
    there is nothing to learn a correctness model from, e.g. every held-out example was right)."""
    in_conf, in_right = [], []
    for scores, truth in zip(heldout.in_scores, heldout.in_truth, strict=True):
        p = softmax(scores, temperature)
        in_conf.append(p.max(axis=1))
        in_right.append(p.argmax(axis=1) == truth)
    out_conf = np.concatenate(
        [softmax(s, temperature).max(axis=1) for s in heldout.out_scores + heldout.negative_scores]
    )
    return _balanced_cut(np.concatenate(in_conf), np.concatenate(in_right), out_conf)
