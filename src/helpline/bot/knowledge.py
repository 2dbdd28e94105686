"""Knowledge retrieval: a TF-IDF index over the articles, answering "which article covers this question"."""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from helpline.bot.language import fold


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


class Retriever:
    """Character n-grams survive typos, plurals and accents, which matters for short chat questions;
    the title counts twice because it is phrased like the customer's question."""

    def __init__(self, articles: list[ArticleDoc]) -> None:
        self.articles = articles
        self._vectorizer: TfidfVectorizer | None = None
        if not articles:
            return
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=1)
        self._matrix = self._vectorizer.fit_transform([self._document(a) for a in articles])

    @staticmethod
    def _document(article: ArticleDoc) -> str:
        return fold(f"{article.title} {article.title} {' '.join(article.tags)} {article.answer}")

    def search(self, question: str, k: int = 3, language: str | None = None) -> list[Hit]:
        """Best articles first; articles in the customer's language are preferred when any match."""
        if self._vectorizer is None or not question.strip():
            return []
        scores = linear_kernel(self._vectorizer.transform([fold(question)]), self._matrix)[0]
        ranked = sorted(range(len(self.articles)), key=lambda i: float(scores[i]), reverse=True)
        hits = [Hit(self.articles[i], float(scores[i])) for i in ranked if scores[i] > 0]
        if language:
            same = [h for h in hits if h.article.language == language]
            other = [h for h in hits if h.article.language != language]
            hits = same + other if same and same[0].score >= (other[0].score if other else 0) * 0.8 else hits
        return hits[:k]
