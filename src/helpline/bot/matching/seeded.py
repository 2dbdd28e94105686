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
from helpline.bot.matching.protocol import ScriptMatcher
from helpline.bot.routing import message_language, route
from helpline.bot.scripts import parse_definitions
from helpline.bot.seeds import seed_documents
from helpline.settings import Settings


def _csv(name: str) -> list[dict[str, str]]:
    text = resources.files("helpline.bot.seeds").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass
class ParaphraseFigures:
    """How one paraphrase set fared: rates over all rows, and per language (the script key's suffix)."""

    rows: int
    started_right: float
    top1_right: float
    clarified_with_right: float
    started_wrong: float
    by_language: dict[str, dict[str, float]] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SeededFigures:
    """Rates over the shipped evaluation sets. `paraphrases` is the test set (nothing is tuned on it); `dev` the
    paraphrases the thresholds' design was checked on; `off_topic_started` / `off_topic_clarified` are the off-topic
    questions that would start a script / get a clarifying question before knowledge is even tried."""

    paraphrases: ParaphraseFigures
    dev: ParaphraseFigures
    on_topic: int = 0
    on_topic_answered_right: float = 0.0
    off_topic: int = 0
    off_topic_declined: float = 0.0
    off_topic_started: float = 0.0
    off_topic_clarified: float = 0.0
    article_threshold: float | None = None
    knowledge_misses: list[dict[str, Any]] = field(default_factory=list)
    # The dev questions (knowledge_questions_dev.csv) the lexical and translation rules were chosen on.
    dev_on_topic: int = 0
    dev_on_topic_answered_right: float = 0.0
    dev_off_topic: int = 0
    dev_off_topic_declined: float = 0.0


def _decide(
    everything: ScriptMatcher, by_language: dict[str, ScriptMatcher], text: str, s: Settings
) -> tuple[str, list[tuple[str, float]]]:
    """ "start", "clarify" or "none", as helpline.bot.flow decides, with the ranked candidates."""
    # As the bot does (bot/routing.py): the customer's language picks the scripts offered in it; a first message
    # of a conversation with nothing else known has the company default as its prior.
    routed = route(everything, by_language, text, prior=s.bot_default_language)
    ranked = routed.ranked
    if routed.out_of_scope:
        return "none", ranked
    confidence = ranked[0][1]
    if confidence >= s.bot_match_high:
        return "start", ranked
    return ("clarify" if confidence >= s.bot_match_low else "none"), ranked


_RATES = ("started_right", "top1_right", "clarified_with_right", "started_wrong")


def _paraphrases(
    everything: ScriptMatcher, by_language: dict[str, ScriptMatcher], rows: list[dict[str, str]], s: Settings
) -> ParaphraseFigures:
    outcomes: list[tuple[str, bool, bool, bool, bool]] = []  # language, started right, top1, clarified, wrong
    misses: list[dict[str, Any]] = []
    for row in rows:
        decision, ranked = _decide(everything, by_language, row["text"], s)
        (key, confidence), right = ranked[0], row["category"]
        offered = [k for k, c in ranked if c >= s.bot_match_low / 2]
        ok = decision == "start" and key == right
        outcomes.append(
            (
                right.rsplit("-", 1)[-1],
                ok,
                key == right,
                decision == "clarify" and right in offered,
                decision == "start" and key != right,
            )
        )
        if not ok:
            misses.append({"text": row["text"], "expected": right, "top": key, "confidence": round(confidence, 3)})

    def rates(subset: list[tuple[str, bool, bool, bool, bool]]) -> list[float]:
        return [sum(bool(o[i]) for o in subset) / len(subset) for i in range(1, 5)]

    started, top1, clarified, wrong = rates(outcomes)
    per_language: dict[str, dict[str, float]] = {
        lang: dict(zip(_RATES, rates(subset), strict=True))
        for lang in sorted({o[0] for o in outcomes})
        if (subset := [o for o in outcomes if o[0] == lang])
    }
    return ParaphraseFigures(len(rows), started, top1, clarified, wrong, per_language, misses)


def seeded_figures(
    make: Callable[[], ScriptMatcher], encoder: TextEncoder | None, settings: Settings | None = None
) -> SeededFigures:
    """Fit `make()` on the shipped scripts exactly as the engine does (name + examples), then run the sets."""
    s = settings or Settings()
    scripts: list[ScriptEntry] = []
    articles: list[ArticleDoc] = []
    for document in seed_documents():
        for d in parse_definitions(document):
            scripts.append(ScriptEntry(len(scripts) + 1, d.key, d.name, 1, d))
        for a in parse_articles(document):
            articles.append(ArticleDoc(len(articles) + 1, a.title, a.answer, tuple(a.tags), a.language))
    everything, by_language = fit_matchers(make, scripts)
    test = _paraphrases(everything, by_language, _csv("paraphrases.csv"), s)
    dev = _paraphrases(everything, by_language, _csv("paraphrases_dev.csv"), s)

    retriever = Retriever(articles, encoder)
    questions = _csv("knowledge_questions.csv")
    on = [q for q in questions if q["article"]]
    off = [q for q in questions if not q["article"]]
    answered_right, declined, knowledge_misses = _knowledge(retriever, questions, s)
    dev_questions = _csv("knowledge_questions_dev.csv")
    dev_right, dev_declined, _ = _knowledge(retriever, dev_questions, s)
    dev_on = sum(bool(q["article"]) for q in dev_questions)
    decisions = [_decide(everything, by_language, q["text"], s)[0] for q in off]
    return SeededFigures(
        paraphrases=test,
        dev=dev,
        on_topic=len(on),
        on_topic_answered_right=answered_right / len(on),
        off_topic=len(off),
        off_topic_declined=declined / len(off),
        off_topic_started=decisions.count("start") / len(off),
        off_topic_clarified=decisions.count("clarify") / len(off),
        article_threshold=retriever.threshold,
        knowledge_misses=knowledge_misses,
        dev_on_topic=dev_on,
        dev_on_topic_answered_right=dev_right / max(dev_on, 1),
        dev_off_topic=len(dev_questions) - dev_on,
        dev_off_topic_declined=dev_declined / max(len(dev_questions) - dev_on, 1),
    )


def _knowledge(
    retriever: Retriever, questions: list[dict[str, str]], s: Settings
) -> tuple[int, int, list[dict[str, Any]]]:
    """(covered questions answered with their article, off-topic ones declined, the misses)."""
    answered_right = declined = 0
    misses: list[dict[str, Any]] = []
    for q in questions:
        # As the bot does (flow._answer_from_knowledge): the question's likely language, else the company default.
        language = message_language(q["text"])[1] or s.bot_default_language
        hits = retriever.search(q["text"], k=1, language=language)
        answered = bool(hits) and retriever.answerable(hits[0], s.bot_article_threshold)
        title = hits[0].article.title if answered else None
        good = title == q["article"] if q["article"] else title is None
        answered_right += bool(q["article"]) and good
        declined += not q["article"] and good
        if not good:
            misses.append({"text": q["text"], "expected": q["article"] or None, "answered": title})
    return answered_right, declined, misses


def describe_seeded(f: SeededFigures) -> str:
    """The human-readable lines `helpline bot eval` prints for the shipped scripts and articles."""
    pct = "{:.1%}".format

    def paraphrase_line(name: str, p: ParaphraseFigures) -> list[str]:
        languages = "; ".join(
            f"{lang}: started {pct(r['started_right'])}, top guess {pct(r['top1_right'])}, "
            f"wrong start {pct(r['started_wrong'])}"
            for lang, r in p.by_language.items()
        )
        return [
            f"seeded scripts       {p.rows} {name}: started the right script {pct(p.started_right)}; top guess "
            f"right {pct(p.top1_right)}; asked to clarify with it offered {pct(p.clarified_with_right)}; started a "
            f"wrong script {pct(p.started_wrong)}",
            f"                     ({languages})",
        ]

    threshold = f"{f.article_threshold:.3f} (measured)" if f.article_threshold is not None else "the setting"
    lines = [
        *paraphrase_line("fresh paraphrases (test set)", f.paraphrases),
        *paraphrase_line("dev paraphrases", f.dev),
        f"knowledge answers    {f.on_topic} covered questions answered with the right article "
        f"{pct(f.on_topic_answered_right)}; {f.off_topic} off-topic questions declined {pct(f.off_topic_declined)}; "
        f"threshold {threshold}",
        f"knowledge (dev)      {f.dev_on_topic} covered questions answered with the right article "
        f"{pct(f.dev_on_topic_answered_right)}; {f.dev_off_topic} off-topic questions declined "
        f"{pct(f.dev_off_topic_declined)}",
        f"off-topic questions  would start a script {pct(f.off_topic_started)}, get a clarifying question "
        f"{pct(f.off_topic_clarified)} (before knowledge is tried)",
    ]
    lines += [f"  paraphrase missed   {m}" for m in f.paraphrases.misses]
    lines += [f"  knowledge missed    {m}" for m in f.knowledge_misses]
    return "\n".join(lines)
