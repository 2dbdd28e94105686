"""The default matcher: frozen sentence embeddings joined with the lexical TF-IDF features, one linear SVM."""

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


class SemanticScorer:
    """Decision values of a linear SVM on [embedding · w, TF-IDF], each block unit length before weighting."""

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        encoder: Encoder,
        weight: float = EMBEDDING_WEIGHT,
    ) -> None:
        self.classes = sorted(set(labels))
        self._encoder = encoder
        self._weight = weight
        self._features = lexical_features()
        self._features.fit(texts)
        # Unit-length example embeddings, for the out-of-scope test: how close is a message to any example?
        self._example_vectors = encoder.encode(texts, remember=True)
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
        dense = sparse.csr_matrix(self._encoder.encode(texts, remember=remember) * self._weight)
        # Not rescaled to unit length: that changes how strongly liblinear regularises the intercept against the
        # weights, and cost 0.3 points on banking77 (93.73 % against 94.03 %).
        joined: sparse.csr_matrix = sparse.hstack([dense, lexical], format="csr")
        return joined

    def similarity(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text's embedding to its nearest training example, in [-1, 1]."""
        nearest: np.ndarray = (self._encoder.encode(texts) @ self._example_vectors.T).max(axis=1)
        return nearest

    def scores(self, texts: Sequence[str]) -> Matrix:
        x = self._join(texts)
        if self._svm is not None:
            decision = np.asarray(self._svm.decision_function(x), dtype=np.float64)
            return np.column_stack([-decision, decision]) if decision.ndim == 1 else decision
        assert self._examples is not None
        similarity = np.asarray((x @ self._examples.T).todense(), dtype=np.float64)
        # Both vectors have length sqrt(1 + w²): divide it out to get a cosine in [-1, 1].
        cosine = similarity.max(axis=1, keepdims=True) / (1.0 + self._weight**2)
        nearest: Matrix = 2.0 * cosine - 1.0
        return nearest


class SemanticMatcher(CalibratedMatcher):
    """Embedding + TF-IDF features, linear SVM, softmax-calibrated, out-of-scope threshold from held-out scripts."""

    def __init__(
        self, encoder: Encoder, *, calibration_rounds: int | None = None, weight: float = EMBEDDING_WEIGHT
    ) -> None:
        def factory(texts: Sequence[str], labels: Sequence[str]) -> SemanticScorer:
            return SemanticScorer(texts, labels, encoder=encoder, weight=weight)

        super().__init__(f"{encoder.backend.name}-tfidf-svm", factory, calibration_rounds=calibration_rounds)
        self._encoder = encoder

    def fit(self, examples: Sequence[tuple[str, str]]) -> None:
        # Calibration scores the generic off-topic messages once per held-out round: encode them once.
        self._encoder.encode(off_topic_messages(), remember=True)
        super().fit(examples)
