"""The bot's decision for one customer message: escalate, continue a script, answer small talk, clarify, start
one, or answer from knowledge — computed without touching the database, so no lock is held while models or an
LLM run."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from helpline.bot import runner, smalltalk
from helpline.bot.engine import ScriptEntry, Snapshot
from helpline.bot.escalation import LOW_CONFIDENCE, Trigger, message_trigger, tag_trigger
from helpline.bot.extract import choice
from helpline.bot.language import guess_language, say, words
from helpline.bot.llm import Llm
from helpline.bot.routing import message_language, route
from helpline.bot.runner import Outcome, Reply
from helpline.platform.sanitize import is_blank
from helpline.settings import Settings


@dataclass
class Context:
    text: str
    state: dict[str, Any]
    tags: list[str]
    settings: Settings
    snapshot: Snapshot
    running: ScriptEntry | None
    llm: Llm | None
    today: date
    # The reply language when the message shows none and the conversation has none yet: the contact's
    # locale, else the widget's or channel's language, else the company default (pipeline.fallback_language).
    language: str = "en"


# How many of the customer's latest messages (before a script starts) its steps may take answers from.
RECENT_KEPT = 3
MENU_SIZE = 6
MENU_PICK_WORDS = 3  # "2", "the second one", "Insurance claim"


def _resumed(state: dict[str, Any]) -> dict[str, Any]:
    """After a hand-back the bot starts fresh, keeping what it collected before for the record."""
    previous = {k: state.get(k) for k in ("script", "answers", "escalation") if state.get(k)}
    history = [*state.get("history", []), previous][-10:]
    return {"mode": "idle", "history": history, "lang": state.get("lang"), "low_confidence": 0}


async def decide(ctx: Context) -> Outcome:
    state = copy.deepcopy(ctx.state)
    if is_blank(ctx.text):
        # Nothing readable (a provider delivered only spaces or zero-width characters, or a file without a
        # caption): the message is stored as sent, but it is neither an answer nor an unclear demand, so the bot
        # says nothing and counts nothing towards a hand-over.
        return Outcome(state=state, log=[("empty_message", {})])
    if state.get("mode") == "paused":
        state = _resumed(state)
    # The reply language, in order: the message's own when clear, the conversation's so far, the fallback.
    said_in = guess_language(ctx.text)
    if not state.get("lang"):
        state["lang"] = said_in or ctx.language
    outcome = Outcome(state=state)
    trigger = tag_trigger(ctx.tags, ctx.settings.bot_escalate_tags) or message_trigger(
        ctx.text, keywords=ctx.settings.bot_escalation_keywords
    )
    if trigger is not None:
        # Tell them in the language they just used ("quero falar com alguém" in an English script).
        state["lang"] = said_in or state["lang"]
        outcome.escalate = trigger
        if state.get("mode") == "script" and ctx.running is not None:
            outcome.fields = runner.fields(ctx.running, state)
        return outcome
    mode = state.get("mode", "idle")
    if mode == "script" and ctx.running is not None:
        await runner.answer(
            outcome, ctx.running, ctx.text, llm=ctx.llm, region=ctx.settings.bot_phone_region, today=ctx.today
        )
        return outcome
    if mode == "clarifying" and _pick_offered(ctx, outcome):
        return outcome
    if said_in is not None:
        state["lang"] = said_in  # "Olá" after an English start: answered, and matched, in Portuguese
    kind = smalltalk.classify(ctx.text)
    if kind is not None:
        _small_talk(ctx, outcome, kind)
        return outcome
    # What the customer says before a script starts may answer its steps ("my claim POL-482913").
    state["recent"] = [*(state.get("recent") or []), ctx.text[:500]][-RECENT_KEPT:]
    await _match(ctx, outcome)
    return outcome


def _menu(ctx: Context, lang: str) -> list[dict[str, Any]]:
    """The scripts to offer after a greeting: those written for the conversation's language, in order."""
    entries = [e for e in ctx.snapshot.scripts.values() if lang in e.definition.languages]
    return [{"script_id": e.id, "key": e.key, "name": e.name} for e in entries[:MENU_SIZE]]


def _small_talk(ctx: Context, outcome: Outcome, kind: str) -> None:
    """Greetings, thanks, goodbyes, "are you a bot?", "hello?": answered, never unclear, never escalated.

    After a greeting (or "hello?") the bot says what it can do: the scripts' names as a numbered list, which
    also travel as `quick_replies` in the message content for channels that show buttons; a reply with the
    number or the name starts that script."""
    state = outcome.state
    lang = str(state["lang"])
    outcome.log.append(("small_talk", {"kind": kind}))
    content: dict[str, Any] = {"bot": {"kind": "small_talk", "intent": kind}}
    # An emoji that says neither hello nor thanks (😡, 🚗💥): ask what they need, without counting it unclear.
    text = say(lang, "ask_need" if kind == smalltalk.EMOJI else kind)
    if kind in (smalltalk.GREETING, smalltalk.ANYONE_THERE):
        menu = _menu(ctx, lang)
        if menu:
            options = "\n".join(f"{i}) {m['name']}" for i, m in enumerate(menu, start=1))
            text = f"{text} {say(lang, 'offer')}\n{options}\n{say(lang, 'offer_hint')}"
            content["quick_replies"] = [m["name"] for m in menu]
            state.update(mode="clarifying", clarify=None, menu=menu)
        else:
            text = f"{text} {say(lang, 'ask_need')}"
    outcome.replies.append(Reply(text, content))


def _pick_offered(ctx: Context, outcome: Outcome) -> bool:
    """The customer answers the clarifying question: "1", "the first", or the script's name."""
    state = outcome.state
    offered = [c for c in state.get("clarify") or state.get("menu") or [] if c["key"] in ctx.snapshot.scripts]
    if not offered:
        return False
    if not state.get("clarify") and len(words(ctx.text)) > MENU_PICK_WORDS:
        # After a greeting's menu, a sentence is a request in the customer's words, matched as usual
        # ("quero marcar um horário" is not the "Horário de atendimento" entry).
        return False
    name = choice(ctx.text, [c["name"] for c in offered])
    if name is None:
        return False
    picked = next(c for c in offered if c["name"] == name)
    entry = ctx.snapshot.scripts[picked["key"]]
    # The reply that picks may also answer steps ("my claim POL-482913, car hit yesterday"): fill from it as
    # from an opening message, or the policy number just given would be asked again.
    state["recent"] = [*(state.get("recent") or []), ctx.text[:500]][-RECENT_KEPT:]
    _start(
        ctx, outcome, entry, how="clarified" if state.get("clarify") else "menu", confidence=picked.get("confidence")
    )
    return True


def _start(ctx: Context, outcome: Outcome, entry: ScriptEntry, *, how: str, confidence: float | None) -> None:
    said = list(outcome.state.pop("recent", None) or [])
    runner.start(
        outcome,
        entry,
        lang=str(outcome.state["lang"]),
        how=how,
        confidence=confidence,
        said=said,
        region=ctx.settings.bot_phone_region,
        today=ctx.today,
    )


def _candidates(ctx: Context, lang: str) -> tuple[list[dict[str, Any]], bool, str | None]:
    """The top scripts with their confidences, whether the message is out of scope, and the language whose
    scripts were matched (bot/routing.py: the message's own when sure, else the most confident language's)."""
    if ctx.snapshot.matcher is None:
        return [], True, None
    routed = route(ctx.snapshot.matcher, ctx.snapshot.by_language, ctx.text, prior=lang)
    candidates = [
        {"script_id": entry.id, "key": key, "name": entry.name, "confidence": round(float(conf), 4)}
        for key, conf in routed.ranked
        if (entry := ctx.snapshot.scripts.get(key)) is not None
    ]
    return candidates, routed.out_of_scope, routed.language


async def _match(ctx: Context, outcome: Outcome) -> None:
    state = outcome.state
    lang = str(state["lang"])
    s = ctx.settings
    candidates, out_of_scope, matched_in = _candidates(ctx, lang)
    state["candidates"] = candidates
    outcome.log.append(
        (
            "matched",
            {
                "candidates": candidates,
                "out_of_scope": out_of_scope,
                "method": ctx.snapshot.method,
                "language": matched_in,
            },
        )
    )
    top = candidates[0] if candidates and not out_of_scope else None
    if top is not None and matched_in is not None and top["confidence"] >= s.bot_match_low:
        # The message did not show its language surely and another language's scripts matched it better
        # ("a entrega está atrasada" on an English widget): the offer or the script is in that language.
        lang = state["lang"] = matched_in
    if _asks_an_article_title(ctx, lang) and await _answer_from_knowledge(ctx, outcome):
        # An article asked by its own title ("How long does a claim take?", "¿cuánto tarda un siniestro?") is
        # answered whatever the case or "?"/"¿": the script matcher scores such a question on words it shares
        # with scripts, and its clarifying menu would hide the exact answer.
        return
    if top is not None and top["confidence"] >= s.bot_match_high:
        entry = ctx.snapshot.scripts[top["key"]]
        _start(ctx, outcome, entry, how="matched", confidence=top["confidence"])
        return
    if top is not None and top["confidence"] >= s.bot_match_low:
        offered = [c for c in candidates if c["confidence"] >= s.bot_match_low / 2][:3]
        state.update(mode="clarifying", clarify=offered, menu=None)
        options = "\n".join(f"{i}) {c['name']}" for i, c in enumerate(offered, start=1))
        outcome.replies.append(
            Reply(
                f"{say(lang, 'clarify')}\n{options}\n{say(lang, 'clarify_hint')}",
                {"bot": {"kind": "clarify", "candidates": offered}},
            )
        )
        outcome.log.append(("clarify", {"offered": offered}))
        return
    if await _answer_from_knowledge(ctx, outcome):
        return
    state["low_confidence"] = int(state.get("low_confidence", 0)) + 1
    if state["low_confidence"] >= s.bot_low_confidence_limit:
        outcome.escalate = Trigger(
            LOW_CONFIDENCE,
            f"{state['low_confidence']} unclear messages in a row",
            {"count": int(state["low_confidence"])},
        )
        return
    state["mode"] = "idle"
    outcome.replies.append(Reply(say(lang, "fallback"), {"bot": {"kind": "fallback"}}))


def _asks_an_article_title(ctx: Context, lang: str) -> bool:
    """True when the message's words (folded: case, accents and punctuation ignored) are an article's title."""
    said = words(ctx.text)
    hits = ctx.snapshot.retriever.search(ctx.text, k=1, language=lang) if said else []
    return bool(hits) and words(hits[0].article.title) == said


async def _answer_from_knowledge(ctx: Context, outcome: Outcome) -> bool:
    """Answer from the best article when it is a confident match; with an LLM, a grounded short answer."""
    state = outcome.state
    retriever = ctx.snapshot.retriever
    # The article in the language the question is most likely written in ("posso pagar por boleto" on an English
    # line gets the Portuguese article when there is one), else the conversation's.
    language = message_language(ctx.text)[1] or str(state["lang"])
    hits = retriever.search(ctx.text, k=3, language=language)
    if not hits or not retriever.answerable(hits[0], ctx.settings.bot_article_threshold):
        return False
    best = hits[0]
    if best.article.language == language:
        state["lang"] = language
    # The title goes first so the customer can tell which question the bot thinks it is answering.
    text, grounded = f"{best.article.title}\n{best.article.answer}", False
    if ctx.llm is not None:
        answer = await ctx.llm.grounded_answer(ctx.text, [h.article for h in hits])
        if answer.text is not None:
            text, grounded = answer.text, True
        elif answer.error is None:
            # The model read the articles and says they do not cover the question: trust it, answer nothing.
            outcome.log.append(("llm_refused", {"articles": [h.article.id for h in hits]}))
            return False
        else:
            outcome.log.append(("llm_error", {"task": "answer", "error": answer.error}))
    article = {"id": best.article.id, "title": best.article.title, "score": round(best.score, 4)}
    outcome.replies.append(Reply(text, {"bot": {"kind": "article", "article": article, "grounded": grounded}}))
    outcome.log.append(("article_used", {"article": article, "grounded": grounded}))
    state.update(mode="idle", low_confidence=0, recent=None)
    return True
