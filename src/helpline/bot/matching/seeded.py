"""Figures on the scripts and articles Helpline ships (bot/seeds): do fresh paraphrases of a script's demand start
that script, and do off-topic questions get "I can't help with that here" instead of a wrong article.

The paraphrases (paraphrases.csv) and questions (knowledge_questions.csv) were written for this evaluation and are
not among the scripts' examples; nothing is tuned on them. A message starts a script as the bot decides it
(helpline.bot.flow): the matcher of the customer's language does not call it out of scope and its confidence
reaches `bot_match_high`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from helpline.bot.articles import parse_articles
from helpline.bot.engine import ScriptEntry, fit_matchers
from helpline.bot.knowledge import ArticleDoc, Retriever, TextEncoder
from helpline.bot.language import detect_language
from helpline.bot.matching.protocol import ScriptMatcher
from helpline.bot.scripts import parse_definitions
from helpline.bot.seeds import seed_documents
from helpline.settings import Settings


def _csv(name: str) -> list[dict[str, str]]:
    text = resources.files("helpline.bot.seeds").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass
class SeededFigures:
    """Rates over the shipped evaluation sets; `by_language` splits the paraphrase figures."""

    paraphrases: int
    started_right: float
    top1_right: float
    clarified_with_right: float
    started_wrong: float
    by_language: dict[str, float] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)
    on_topic: int = 0
    on_topic_answered_right: float = 0.0
    off_topic: int = 0
    off_topic_declined: float = 0.0
    article_threshold: float | None = None
    knowledge_misses: list[dict[str, Any]] = field(default_factory=list)


def seeded_figures(
    make: Callable[[], ScriptMatcher], encoder: TextEncoder | None, settings: Settings | None = None
) -> SeededFigures:
    """Fit `make()` on the shipped scripts exactly as the engine does (name + examples), then run both sets."""
    s = settings or Settings()
    scripts: list[ScriptEntry] = []
    articles: list[ArticleDoc] = []
    for document in seed_documents():
        for d in parse_definitions(document):
            scripts.append(ScriptEntry(len(scripts) + 1, d.key, d.name, 1, d))
        for a in parse_articles(document):
            articles.append(ArticleDoc(len(articles) + 1, a.title, a.answer, tuple(a.tags), a.language))
    everything, by_language = fit_matchers(make, scripts)

    rows = _csv("paraphrases.csv")
    started = top1 = clarified = wrong = 0
    per_language: dict[str, list[bool]] = {}
    misses: list[dict[str, Any]] = []
    for row in rows:
        # As the bot does: the customer's language picks the scripts offered in it (helpline.bot.flow).
        matcher = by_language.get(detect_language(row["text"]), everything)
        ranked = matcher.rank(row["text"], 3)
        rejected = matcher.is_out_of_scope(row["text"])
        (key, confidence), right = ranked[0], row["category"]
        starts = not rejected and confidence >= s.bot_match_high
        offered = [k for k, c in ranked if c >= s.bot_match_low / 2]
        ok = starts and key == right
        started += ok
        top1 += key == right
        wrong += starts and key != right
        clarified += (not rejected and s.bot_match_low <= confidence < s.bot_match_high) and right in offered
        per_language.setdefault(right.rsplit("-", 1)[-1], []).append(ok)
        if not ok:
            misses.append({"text": row["text"], "expected": right, "top": key, "confidence": round(confidence, 3)})

    retriever = Retriever(articles, encoder)
    questions = _csv("knowledge_questions.csv")
    on = [q for q in questions if q["article"]]
    off = [q for q in questions if not q["article"]]
    answered_right = declined = 0
    knowledge_misses: list[dict[str, Any]] = []
    for q in questions:
        hits = retriever.search(q["text"], k=1, language=detect_language(q["text"]))
        answered = bool(hits) and retriever.answerable(hits[0], s.bot_article_threshold)
        title = hits[0].article.title if answered else None
        good = title == q["article"] if q["article"] else title is None
        answered_right += bool(q["article"]) and good
        declined += not q["article"] and good
        if not good:
            knowledge_misses.append({"text": q["text"], "expected": q["article"] or None, "answered": title})
    n = len(rows)
    return SeededFigures(
        paraphrases=n,
        started_right=started / n,
        top1_right=top1 / n,
        clarified_with_right=clarified / n,
        started_wrong=wrong / n,
        by_language={lang: sum(v) / len(v) for lang, v in sorted(per_language.items())},
        misses=misses,
        on_topic=len(on),
        on_topic_answered_right=answered_right / len(on),
        off_topic=len(off),
        off_topic_declined=declined / len(off),
        article_threshold=retriever.threshold,
        knowledge_misses=knowledge_misses,
    )


def describe_seeded(f: SeededFigures) -> str:
    """The human-readable lines `helpline bot eval` prints for the shipped scripts and articles."""
    pct = "{:.1%}".format
    languages = ", ".join(f"{lang} {pct(rate)}" for lang, rate in f.by_language.items())
    threshold = f"{f.article_threshold:.3f} (measured)" if f.article_threshold is not None else "the setting"
    lines = [
        f"seeded scripts       {f.paraphrases} fresh paraphrases: started the right script {pct(f.started_right)} "
        f"({languages}); top guess right {pct(f.top1_right)}; asked to clarify with it offered "
        f"{pct(f.clarified_with_right)}; started a wrong script {pct(f.started_wrong)}",
        f"knowledge answers    {f.on_topic} covered questions answered with the right article "
        f"{pct(f.on_topic_answered_right)}; {f.off_topic} off-topic questions declined {pct(f.off_topic_declined)}; "
        f"threshold {threshold}",
    ]
    lines += [f"  paraphrase missed   {m}" for m in f.misses]
    lines += [f"  knowledge missed    {m}" for m in f.knowledge_misses]
    return "\n".join(lines)
