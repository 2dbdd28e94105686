"""The default matcher: frozen sentence embeddings (one model or several) joined with TF-IDF, one linear SVM."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.svm import LinearSVC

from helpline.bot.knowledge import off_topic_questions as off_topic_messages
from helpline.bot.matching.calibrated import CalibratedMatcher
from helpline.bot.matching.encoder import Encoder
from helpline.bot.matching.lexical import lexical_features
from helpline.bot.matching.scorers import Matrix

# Weight of the embedding block against the unit-length TF-IDF block: 2 beat 1, 1.5 and 3 in cross-validation on
# banking77's training split (bench/RESULTS.md), for MiniLM and for USE alike.
EMBEDDING_WEIGHT = 2.0
# A single-language model (MiniLM: English) joins a matcher only when at least this share of its examples is in its
# language: short phrasings are sometimes guessed wrong, so not 100 %.
SINGLE_LANGUAGE_SHARE = 0.8


Blocks = Sequence[tuple[Encoder, float]]
"""Sentence encoders with the weight of each one's unit-length embedding block against the unit-length TF-IDF."""


class SemanticScorer:
    """Decision values of a linear SVM on [embedding₁ · w₁, …, TF-IDF], each block unit length before weighting."""

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        encoder: Encoder | None = None,
        weight: float = EMBEDDING_WEIGHT,
        blocks: Blocks = (),
    ) -> None:
        self.classes = sorted(set(labels))
        self._blocks: list[tuple[Encoder, float]] = list(blocks) or ([(encoder, weight)] if encoder else [])
        if not self._blocks:
            raise ValueError("SemanticScorer needs at least one encoder")
        self._squared_weight = sum(w * w for _, w in self._blocks)
        self._features = lexical_features()
        self._features.fit(texts)
        # Unit-length example embeddings, for the out-of-scope test: how close is a message to any example?
        self._example_vectors = self._embed(texts, remember=True)
        x = self._join(texts, remember=True)
        self._svm: LinearSVC | None = None
        self._examples: sparse.csr_matrix | None = None
        if len(self.classes) > 1:
            self._svm = LinearSVC(C=1.0).fit(x, labels)
        else:
            self._examples = x

    def _join(self, texts: Sequence[str], *, remember: bool = False) -> sparse.csr_matrix:
        lexical = sparse.csr_matrix(self._features.transform(texts), dtype=np.float64)
        norms = np.sqrt(lexical.multiply(lexical).sum(axis=1)).A1
        lexical = sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ lexical
        dense = sparse.csr_matrix(self._embed(texts, remember=remember, unit=False))
        # Not rescaled to unit length: that changes how strongly liblinear regularises the intercept against the
        # weights, and cost 0.3 points on banking77 (93.73 % against 94.03 %).
        joined: sparse.csr_matrix = sparse.hstack([dense, lexical], format="csr")
        return joined

    def _embed(self, texts: Sequence[str], *, remember: bool = False, unit: bool = True) -> Matrix:
        """The weighted embedding blocks side by side, (len(texts), Σ dimensions); `unit` scales rows to length 1,
        so that a dot product is the weighted mean of the models' cosines (Σ wᵢ² cosᵢ / Σ wᵢ²)."""
        joined = np.hstack([encoder.encode(texts, remember=remember) * w for encoder, w in self._blocks])
        if unit:
            joined /= np.sqrt(self._squared_weight)
        result: Matrix = joined
        return result

    def similarity(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text's (joined) embedding to its nearest training example, in [-1, 1]."""
        nearest: np.ndarray = (self._embed(texts) @ self._example_vectors.T).max(axis=1)
        return nearest

    def scores(self, texts: Sequence[str]) -> Matrix:
        x = self._join(texts)
        if self._svm is not None:
            decision = np.asarray(self._svm.decision_function(x), dtype=np.float64)
            return np.column_stack([-decision, decision]) if decision.ndim == 1 else decision
        assert self._examples is not None
        similarity = np.asarray((x @ self._examples.T).todense(), dtype=np.float64)
        # Both vectors have length sqrt(1 + Σ w²): divide it out to get a cosine in [-1, 1].
        cosine = similarity.max(axis=1, keepdims=True) / (1.0 + self._squared_weight)
        nearest: Matrix = 2.0 * cosine - 1.0
        return nearest


class SemanticMatcher(CalibratedMatcher):
    """Embedding(s) + TF-IDF features, linear SVM, calibrated confidence, out-of-scope cut from held-out data."""

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        calibration_rounds: int | None = None,
        weight: float = EMBEDDING_WEIGHT,
        blocks: Blocks = (),
        method: str | None = None,
    ) -> None:
        chosen: list[tuple[Encoder, float]] = list(blocks) or ([(encoder, weight)] if encoder else [])
        if not chosen:
            raise ValueError("SemanticMatcher needs an encoder or blocks")
        self._chosen = chosen
        # The blocks of the current training set (fit scales single-language models by their language's share).
        self._fitted_blocks = chosen

        def factory(texts: Sequence[str], labels: Sequence[str]) -> SemanticScorer:
            return SemanticScorer(texts, labels, blocks=self._fitted_blocks)

        name = method or "-".join(e.backend.name for e, _ in chosen) + "-tfidf-svm"
        super().__init__(name, factory, calibration_rounds=calibration_rounds)

    def fit(self, examples: Sequence[tuple[str, str]]) -> None:
        self._fitted_blocks = language_blocks(self._chosen, [text for text, _ in examples])
        # Calibration scores the generic off-topic messages once per held-out round: encode them once.
        for encoder, _ in self._fitted_blocks:
            encoder.encode(off_topic_messages(), remember=True)
        super().fit(examples)


def language_blocks(blocks: Blocks, texts: Sequence[str]) -> list[tuple[Encoder, float]]:
    """`blocks` without the single-language models (backend with `languages`) when under ENGLISH_SHARE of `texts`
    are in their languages; multilingual models (no `languages`) always stay.

    MiniLM reads English only: for English it adds 3.6 points over USE at 10 shots (bench/RESULTS.md), but where
    Portuguese examples sit beside English ones it pulls Portuguese messages to the wrong script ("não quero mais
    ser cliente de vocês" → "order" instead of "cancel"). The engine fits one matcher per language besides the
    one over everything (helpline.bot.engine), so the English one gets MiniLM and the others do without it (and
    without its cost per message).
    """
    from helpline.bot.language import detect_language

    result = []
    for encoder, weight in blocks:
        own: tuple[str, ...] | None = getattr(encoder.backend, "languages", None)
        if own is not None and texts:
            share = sum(detect_language(text) in own for text in texts) / len(texts)
            if share < SINGLE_LANGUAGE_SHARE:
                continue
        result.append((encoder, weight))
    # Never none at all: keep the first block (the multilingual model, by the registry's order).
    return result or [blocks[0]]
