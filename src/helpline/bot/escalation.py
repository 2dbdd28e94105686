"""When the bot must hand over: a request for a person (EN, PT, ES, IT, FR), keywords, frustration, tags."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from helpline.bot.language import fold

# Reasons recorded on the conversation and shown to operators.
CUSTOMER_REQUEST = "customer_request"
KEYWORD = "keyword"
FRUSTRATION = "frustration"
LOW_CONFIDENCE = "low_confidence"
FAILED_ANSWERS = "failed_answers"
TECHNICAL_ERROR = "technical_error"
TAG_RULE = "tag_rule"
WINDOW_CLOSED = "window_closed"
# Not a failure: a script whose end is a case for a person completed, or the company's system could not be
# reached with a completed script's answers.
CASE = "case"
END_ACTION_FAILED = "end_action_failed"
REPLY_LIMIT = "reply_limit"  # the bot answered this contact too often (HELPLINE_BOT_REPLY_LIMIT)
# Every reason the bot can record; the operator app has a label for each (a test holds both catalogues to it).
REASONS = (
    CUSTOMER_REQUEST,
    KEYWORD,
    FRUSTRATION,
    LOW_CONFIDENCE,
    FAILED_ANSWERS,
    TECHNICAL_ERROR,
    TAG_RULE,
    WINDOW_CLOSED,
    CASE,
    END_ACTION_FAILED,
    REPLY_LIMIT,
)

# Who the customer wants, and the verbs or frames around it. Matching a "want" word near a "person" word
# catches the many phrasings ("can I talk to someone real", "quero falar com um atendente") without a
# list of whole sentences; the patterns run on folded text (lower case, no accents).
_PERSON = (
    r"(human|person|people|someone|somebody|agent|operator|representative|rep|staff|manager|supervisor|"
    r"real person|live (?:agent|chat|person)|customer service|"
    r"humano|humana|pessoa|alguem|atendente|atendimento humano|operador|operadora|gerente|"
    r"persona|alguien|agente|asesor|asesora|"
    r"humain|personne|quelqu'?un|conseiller|conseillere|operateur|operatrice|"
    r"umano|persona|qualcuno|operatore|operatrice|assistente|consulente)"
)
_ASK = (
    r"(talk|speak|chat|connect|transfer|put me through|get me|want|need|give me|call|"
    r"falar|conversar|chamar|quero|preciso|passa|transfere|transferir|me passe|"
    r"hablar|quiero|necesito|pasame|comunicar|"
    r"parler|veux|voudrais|besoin|passez|"
    r"parlare|voglio|vorrei|bisogno|passami)"
)
_PERSON_REQUEST = [
    re.compile(rf"\b{_ASK}\b.{{0,40}}\b{_PERSON}\b"),
    re.compile(r"\b(not|no|nao|pas|non) (a |um |una |un )?(bot|robot|robo|machine|maquina)\b"),
    re.compile(r"\b(stop|chega de|basta de|arrete) (the |o |el |le |il )?(bot|robot|robo)\b"),
    # The whole message names a person ("a person please", "uma pessoa", "atendente"): the answer to the
    # fallback's offer of a person.
    re.compile(
        rf"^\s*(a |an |um |uma |una |un |une |o |el |la )?(?!people\b){_PERSON}\s*,?\s*"
        r"(please|pls|por favor|s'il vous plait|per favore)?\s*[.!?]*\s*$"
    ),
]

_FRUSTRATION = [
    re.compile(
        r"\b(useless|ridiculous|absurd|terrible|awful|worst|unacceptable|stupid|idiot|hate|wtf|scam|fraud|"
        r"lawyer|sue|complain to|"
        r"inutil|ridiculo|absurdo|pessimo|horrivel|odeio|palhacada|vergonha|idiota|procon|processar|advogado|"
        r"estupido|horrible|odio|abogado|denunciar|"
        r"nul|inadmissible|honteux|deteste|avocat|"
        r"inaccettabile|vergogna|odio|avvocato|pessimo)\b"
    ),
    re.compile(r"\b(fed up|sick of|cansad[oa] de|harto de|j'en ai marre|stufo di)\b"),
]


def wants_human(text: str) -> bool:
    folded = fold(text)
    return any(p.search(folded) for p in _PERSON_REQUEST)


def frustrated(text: str) -> bool:
    """Strong frustration: abusive or angry words, or shouting (a long message mostly in capitals)."""
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.8 and text.count("!") >= 1
    folded = fold(text)
    return shouting or any(p.search(folded) for p in _FRUSTRATION)


def keyword_hit(text: str, keywords: Iterable[str]) -> str | None:
    folded = fold(text)
    for keyword in keywords:
        k = fold(keyword)
        if k and re.search(rf"\b{re.escape(k)}\b", folded):
            return keyword
    return None


@dataclass(frozen=True)
class Trigger:
    """Why the bot hands over: `reason` (a code), `detail` (free text, e.g. the keyword that matched) and
    `params`, the same facts as data for a screen to put in its own words ({"count": 2} for low_confidence,
    {"step": key, "step_label": question} for failed_answers)."""

    reason: str
    detail: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def message_trigger(text: str, *, keywords: Iterable[str]) -> Trigger | None:
    """An escalation the customer's message asks for, checked before anything else the bot would do."""
    if wants_human(text):
        return Trigger(CUSTOMER_REQUEST)
    hit = keyword_hit(text, keywords)
    if hit:
        return Trigger(KEYWORD, hit)
    if frustrated(text):
        return Trigger(FRUSTRATION)
    return None


def tag_trigger(tags: Iterable[str], escalate_tags: Iterable[str]) -> Trigger | None:
    hits = sorted({t.lower() for t in tags} & {t.lower() for t in escalate_tags})
    return Trigger(TAG_RULE, ",".join(hits)) if hits else None
