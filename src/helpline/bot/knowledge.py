"""Knowledge retrieval: which article answers this question, and whether any does (the answerability threshold)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Protocol

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from helpline.bot.language import fold, words

# The share of known off-topic questions an article may still be given to: the threshold is their 97th percentile.
OFF_TOPIC_QUANTILE = 0.97
# Never below this cosine, whatever the off-topic questions say (a knowledge base of one vague article).
MIN_THRESHOLD = 0.35
# The content-word cosine's floor (a knowledge base with nothing like the off-topic questions).
MIN_TOPIC_THRESHOLD = 0.1
# Shared words (`lexical_share`): a question whose content words all differ from the article's ("how do I reset my
# router" against "How do I update my address?") needs a cosine this much above the threshold — only its form is
# like the title's; one that shares most of them ("posso pagar com pix": "pagamento", "Pix") may be this much below
# it. Chosen on the dev questions (bot/seeds/knowledge_questions_dev.csv), bench/RESULTS.md.
NO_SHARED_WORD_MARGIN = 0.2
SHARED_WORDS_RESCUE = 0.05
SHARED_WORDS_ENOUGH = 0.5
# An article in the customer's language whose title and answer are at least this close (cosine) to the best
# article is its translation, given instead of it ("vocês aceitam boleto?" gets the Portuguese payment article even
# when the English one scores a little higher). Translations of the shipped articles score 0.68 to 0.87 with each
# other, different articles at most 0.35.
TRANSLATION_COSINE = 0.6
# Words are compared by their first letters, so "pagar" meets "pagamento", "claims" meets "claim" (EN/PT/ES have
# no light stemmer in the dependencies, and whole-word equality missed most inflections).
STEM = 4


# Question frames and function words (EN/PT/ES, accents folded): what a question shares with any article title
# ("how long does … take?", "quanto tempo …", "como faço para …") whatever it is about.
_FRAME_WORDS = """
a an the i me my mine we our us you your yours he she it its they them their this that these those there here is
are was were be been being am do does did doing have has had having will would shall should can could may might
must to of in on at by for with from about into over after before up down out off again then than so too very
just also not no yes and or but if because as until while what which who whom whose when where why how much many
long take takes taking get gets got make makes made please want need like know tell help any some all each every
other more most own same such only one ones anything something o os as um uma uns umas eu me meu minha meus
minhas nos nosso nossa voce voces vc seu sua seus suas ele ela eles elas isso isto esse essa este esta aquele
aquela e ou mas se que quem qual quais quando onde como porque por quanto quanta quantos quantas de do da dos
das em no na nos nas num numa ao aos para pra pro com sem sobre ate ser sao foi era estar esta estou tem ter
tenho vai vou faz faco fazer pode posso podem consigo quero preciso gostaria saber favor demora demorar leva
levar tempo dias el la los las lo un una yo mi mis tu su sus nosotros usted ustedes es son fue estar esta estoy
hay tener tengo puede puedo quiero necesito cuanto cuando donde como por para con sin sobre del al y o pero si
"""
_FRAME = frozenset(_FRAME_WORDS.split())


def content_words(text: str) -> list[str]:
    """The words of `text` that say what it is about: folded, question frames and function words dropped."""
    return [w for w in words(text) if w not in _FRAME and not w.isdigit()]


def _stems(text: str) -> set[str]:
    return {w[:STEM] for w in content_words(text) if len(w) >= 3}


def lexical_share(question: str, article: str) -> float | None:
    """The share of the question's content words (3 letters or more) that the article's title, answer or tags
    also use (`STEM` first letters equal; a 3-letter word such as "pay" also meets "payment"); None when the
    question has no content word of 3 letters or more."""
    asked = {w for w in content_words(question) if len(w) >= 3}
    if not asked:
        return None
    offered = _stems(article)
    shared = sum(w[:STEM] in offered or (len(w) < STEM and any(o.startswith(w) for o in offered)) for w in asked)
    return shared / len(asked)


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
    """An article for a question: `score` is the question's cosine to it; `topic` (encoder only) the cosine of the
    question's content words alone, so a question that only shares its form with a title scores low."""

    article: ArticleDoc
    score: float
    topic: float | None = None
    lexical: float | None = None  # lexical_share of the question with the article


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
        self.topic_threshold: float | None = None
        self._encoder = encoder if articles else None
        self._vectorizer: TfidfVectorizer | None = None
        if not articles:
            return
        if self._encoder is not None:
            views = [a.title for a in articles] + [f"{a.title}. {a.answer}" for a in articles]
            self._views = self._encoder.encode(views, remember=True).reshape(2, len(articles), -1)
            # The same two views with question frames and function words taken out ("How long does a claim
            # take?" → "claim"): what each article is about.
            topics = [" ".join(content_words(v)) or v for v in views]
            self._topics = self._encoder.encode(topics, remember=True).reshape(2, len(articles), -1)
            # Which articles say the same in another language (the title-and-answer views' cosines).
            self._same = np.einsum("ad,bd->ab", self._views[1], self._views[1])
            questions = off_topic_questions()
            scores = self._scores(questions, remember=True)
            self.threshold = max(MIN_THRESHOLD, float(np.quantile(scores.max(axis=1), OFF_TOPIC_QUANTILE)))
            # The same percentile for the content words, over the off-topic questions' best articles.
            best = scores.argmax(axis=1)
            topical = self._topic_scores(questions, best, remember=True)
            self.topic_threshold = max(MIN_TOPIC_THRESHOLD, float(np.quantile(topical, OFF_TOPIC_QUANTILE)))
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

    def _topic_scores(self, questions: list[str], articles: np.ndarray, *, remember: bool = False) -> np.ndarray:
        """Cosine of each question's content words to those of article `articles[i]` (title, or title and
        answer; the better); 0 for a question without content words."""
        assert self._encoder is not None
        contents = [" ".join(content_words(q)) for q in questions]
        result = np.zeros(len(questions))
        present = [i for i, c in enumerate(contents) if c]
        if present:
            vectors = self._encoder.encode([contents[i] for i in present], remember=remember)
            views = self._topics[:, articles[present], :]  # (views, questions, dimension)
            result[present] = np.einsum("qd,vqd->qv", vectors, views).max(axis=1)
        return result

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
            if hits and hits[0].article.language != language and self._encoder is not None:
                hits = self._translated(hits, language)
        hits = hits[:k]
        if self._encoder is not None and hits:
            best = hits[0]
            article = best.article
            lexical = lexical_share(question, f"{article.title} {article.answer} {' '.join(article.tags)}")
            floor = (self.threshold or 0.0) - (SHARED_WORDS_RESCUE if (lexical or 0.0) >= SHARED_WORDS_ENOUGH else 0.0)
            topic = None
            if self.threshold is None or best.score >= floor:
                # Only the best hit is ever answered with, and only near the threshold: then one more encoding, of
                # the question's content words.
                position = self.articles.index(best.article)
                topic = float(self._topic_scores([question], np.array([position]))[0])
            hits[0] = Hit(best.article, best.score, topic, lexical)
        return hits

    def _translated(self, hits: list[Hit], language: str) -> list[Hit]:
        """`hits` with the best one replaced by its translation in `language`, when the articles hold one (same
        title and answer in another language, cosine >= TRANSLATION_COSINE); the question's score is kept."""
        best = self.articles.index(hits[0].article)
        candidates = [i for i, a in enumerate(self.articles) if a.language == language]
        if not candidates:
            return hits
        twin = max(candidates, key=lambda i: float(self._same[best, i]))
        if float(self._same[best, twin]) < TRANSLATION_COSINE:
            return hits
        translated = Hit(self.articles[twin], hits[0].score)
        return [translated, *(h for h in hits[1:] if h.article.id != self.articles[twin].id)]

    def answerable(self, hit: Hit, setting: float) -> bool:
        """Whether `hit` is good enough to answer with: above the measured threshold, and its content words above
        theirs (the question is about what the article is about, not only shaped like its title); with no content
        word shared with the article, NO_SHARED_WORD_MARGIN above it; sharing most, SHARED_WORDS_RESCUE below it is
        enough. Without an encoder, above `setting` (the admin's `bot_article_threshold`, lexical retriever)."""
        if self.threshold is None:
            return hit.score >= setting
        topical = hit.topic is None or self.topic_threshold is None or hit.topic >= self.topic_threshold
        if hit.lexical is None:
            return hit.score >= self.threshold and topical
        if hit.lexical == 0.0:
            # Not one word in common: only a clearly closer meaning than the off-topic questions' answers it.
            return hit.score >= self.threshold + NO_SHARED_WORD_MARGIN and topical
        if hit.lexical >= SHARED_WORDS_ENOUGH and hit.topic is not None:
            return hit.score >= self.threshold - SHARED_WORDS_RESCUE and topical
        return hit.score >= self.threshold and topical
