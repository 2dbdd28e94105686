"""The default, light matcher: TF-IDF word and character n-grams with a linear SVM (scikit-learn only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from helpline.bot.matching.calibrated import CalibratedMatcher
from helpline.bot.matching.scorers import Matrix


def lexical_features() -> FeatureUnion:
    """Word uni/bigrams for vocabulary, character n-grams within words for typos, inflections and Portuguese accents."""
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode")),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, strip_accents="unicode"),
            ),
        ]
    )


class LexicalScorer:
    """Scores are the SVM's decision values; with a single script, the cosine similarity to its nearest example."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str], *, c: float = 1.0) -> None:
        self.classes = sorted(set(labels))
        self._features = lexical_features()
        x = normalize(self._features.fit_transform(texts))
        self._svm: LinearSVC | None = None
        self._examples: sparse.csr_matrix | None = None
        if len(self.classes) > 1:
            self._svm = LinearSVC(C=c).fit(x, labels)
            assert list(self._svm.classes_) == self.classes
        else:
            self._examples = x

    def vectors(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The l2-normalised TF-IDF vectors (also used as features by the semantic matcher)."""
        return normalize(self._features.transform(texts))

    def scores(self, texts: Sequence[str]) -> Matrix:
        x = self.vectors(texts)
        if self._svm is not None:
            decision = np.asarray(self._svm.decision_function(x), dtype=np.float64)
            # With two scripts scikit-learn returns one column: the second script's margin.
            return np.column_stack([-decision, decision]) if decision.ndim == 1 else decision
        assert self._examples is not None
        similarity = np.asarray((x @ self._examples.T).todense(), dtype=np.float64)
        nearest: Matrix = 2.0 * similarity.max(axis=1, keepdims=True) - 1.0
        return nearest


class LexicalMatcher(CalibratedMatcher):
    """TF-IDF + linear SVM, softmax-calibrated, with an out-of-scope threshold learned from held-out scripts."""

    def __init__(self, *, calibration_rounds: int | None = None) -> None:
        super().__init__("tfidf-svm", LexicalScorer, calibration_rounds=calibration_rounds)
