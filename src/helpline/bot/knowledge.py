"""Knowledge retrieval: which article answers this question, and whether any does (the answerability threshold)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from helpline.bot.language import fold

# The share of known off-topic questions an article may still be given to: the threshold is their 97th percentile.
OFF_TOPIC_QUANTILE = 0.97
# Never below this cosine, whatever the off-topic questions say (a knowledge base of one vague article).
MIN_THRESHOLD = 0.35


class TextEncoder(Protocol):
    """helpline.bot.matching.encoder.Encoder's shape, restated so this module does not import the models."""

    def encode(self, texts: list[str], *, remember: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class ArticleDoc:
    id: int
    title: str
    answer: str
    tags: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class Hit:
    article: ArticleDoc
    score: float


def off_topic_questions() -> list[str]:
    """The shipped off-topic questions (EN/PT/ES) that calibrate the answerability threshold."""
    text = resources.files("helpline.bot.seeds").joinpath("off_topic.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


class Retriever:
    """With a sentence encoder (the default install), the score is the best cosine between the question and the
    article's title, or its title with the answer; `threshold` is then measured on off-topic questions against these
    very articles, so a question no article covers gets no article. Without one, TF-IDF character n-grams (typos,
    plurals, accents) score it, the title counting twice as it is phrased like a question, and `threshold` is None:
    the caller's setting applies."""

    def __init__(self, articles: list[ArticleDoc], encoder: TextEncoder | None = None) -> None:
        self.articles = articles
        self.threshold: float | None = None
        self._encoder = encoder if articles else None
        self._vectorizer: TfidfVectorizer | None = None
        if not articles:
            return
        if self._encoder is not None:
            views = [a.title for a in articles] + [f"{a.title}. {a.answer}" for a in articles]
            self._views = self._encoder.encode(views, remember=True).reshape(2, len(articles), -1)
            off_topic = self._scores(off_topic_questions(), remember=True).max(axis=1)
            self.threshold = max(MIN_THRESHOLD, float(np.quantile(off_topic, OFF_TOPIC_QUANTILE)))
            return
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
        self._matrix = self._vectorizer.fit_transform([self._document(a) for a in articles])

    @staticmethod
    def _document(article: ArticleDoc) -> str:
        return fold(f"{article.title} {article.title} {' '.join(article.tags)} {article.answer}")

    def _scores(self, questions: list[str], *, remember: bool = False) -> np.ndarray:
        """(questions, articles) best cosine over each article's views."""
        assert self._encoder is not None
        vectors = self._encoder.encode(questions, remember=remember)
        scores: np.ndarray = np.einsum("qd,vad->qva", vectors, self._views).max(axis=1)
        return scores

    def search(self, question: str, k: int = 3, language: str | None = None) -> list[Hit]:
        """Best articles first; articles in the customer's language are preferred when any match."""
        if not self.articles or not question.strip():
            return []
        if self._encoder is not None:
            scores = self._scores([question])[0]
        else:
            assert self._vectorizer is not None
            scores = linear_kernel(self._vectorizer.transform([fold(question)]), self._matrix)[0]
        ranked = sorted(range(len(self.articles)), key=lambda i: float(scores[i]), reverse=True)
        hits = [Hit(self.articles[i], float(scores[i])) for i in ranked if scores[i] > 0]
        if language:
            same = [h for h in hits if h.article.language == language]
            other = [h for h in hits if h.article.language != language]
            hits = same + other if same and same[0].score >= (other[0].score if other else 0) * 0.8 else hits
        return hits[:k]

    def answerable(self, hit: Hit, setting: float) -> bool:
        """Whether `hit` is good enough to answer with: above the measured threshold, else above `setting`
        (the admin's `bot_article_threshold`, used by the lexical retriever)."""
        return hit.score >= (self.threshold if self.threshold is not None else setting)
