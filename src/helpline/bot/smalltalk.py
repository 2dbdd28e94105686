"""Small talk: greetings, thanks, goodbyes, "are you a bot?" and "hello?" in EN, PT, ES (and FR, IT).

A message is small talk only when nothing else is left once its small-talk phrases and filler words are
removed: "Olá, bom dia" is a greeting, "Hi, I need to file a claim" is a demand (the greeting is ignored).
Own code rather than the script matcher: these few closed phrase sets must never be confused with a
company's scripts, never count as unclear and never escalate, whatever the matcher's thresholds are.
"""

from __future__ import annotations

import re
import unicodedata

from helpline.bot.language import fold

GREETING = "greeting"
THANKS = "thanks"
GOODBYE = "goodbye"
ARE_YOU_A_BOT = "are_you_a_bot"
ANYONE_THERE = "anyone_there"
# A message of emoji only that says neither hello nor thanks (😡, 🚗💥, 😢): not a request the matcher could
# read, so it is not counted as unclear either; the bot asks what the customer needs.
EMOJI = "emoji"
KINDS = (GREETING, THANKS, GOODBYE, ARE_YOU_A_BOT, ANYONE_THERE, EMOJI)

# Emoji read as words: a wave says hello; thumbs up, folded hands, OK hand, hearts and smiles say thanks / fine.
_EMOJI_KINDS: dict[str, str] = {"👋": GREETING, **dict.fromkeys("🙏👍👌❤♥😊🙂😀😃😄😁🥰😍💙💚✅🤝", THANKS)}

# Phrases on folded text (lower case, no accents). Longer phrases first within a kind, so "bom dia" is
# removed before "dia" could be seen as left over.
_PHRASES: dict[str, tuple[str, ...]] = {
    ARE_YOU_A_BOT: (
        r"(are|r) (you|u) (a |an )?(bot|robot|machine|human|real person|real|person|ai)",
        r"(is this|am i talking to|am i chatting with|talking to) (a |an )?(bot|robot|machine|human|real person|ai)",
        r"(voce|vc|tu) (e|eh|es) (um |uma )?(bot|robo|maquina|humano|humana|pessoa( de verdade)?|ia|real)",
        r"(e|eh|estou falando com) (um |uma )?(bot|robo|maquina|humano|pessoa( de verdade)?|ia)",
        r"(eres|es usted|usted es) (un |una )?(bot|robot|maquina|humano|humana|persona( real)?|ia)",
        r"(estoy hablando con) (un |una )?(bot|robot|maquina|humano|persona|ia)",
        r"(es-tu|etes-vous|vous etes|tu es) (un |une )?(bot|robot|humain|humaine|ia)",
        r"(sei|e) (un |una )?(bot|robot|umano|persona)",
    ),
    ANYONE_THERE: (
        r"(is )?(any ?one|any ?body|some ?one) (there|here|around)",
        r"(are )?(you|u) (still )?there",
        r"(tem )?(alguem|algm) (ai|aqui|on|online)",
        r"(voce|vc) (ainda )?(esta|ta) (ai|aqui)",
        r"(hay )?alguien (ahi|alli|aqui)",
        r"(sigues|sigue|estas|esta) (ahi|alli)",
        r"(il y a )?quelqu'?un",
        r"(c'e )?qualcuno",
    ),
    GOODBYE: (
        r"good ?bye|bye bye|bye|see (you|ya)( later| soon)?|take care|have a (good|nice|great) (day|one|evening)",
        r"that'?s all|that is all|nothing else|no more questions",
        r"tchau|ate (logo|mais|breve|a proxima)|adeus|falou|flw|bom descanso|tenha um (bom|otimo) dia",
        r"(era )?so isso|mais nada|nada mais",
        r"adios|hasta (luego|pronto|manana|la proxima)|chao|nos vemos|eso es todo|nada mas",
        r"au revoir|a bientot|bonne (journee|soiree)|c'est tout",
        r"arrivederci|a presto|buona giornata",
    ),
    THANKS: (
        r"thank (you|u)( (so|very) much)?|thanks( a lot)?|thx|ty|cheers|much appreciated|appreciate (it|that)",
        r"(muito )?obrigad[oa]s?( mesmo)?|valeu|vlw|agradeco|brigad[oa]",
        r"(muchas )?gracias|mil gracias|te lo agradezco|se lo agradezco",
        r"merci( beaucoup)?",
        r"grazie( mille)?",
    ),
    GREETING: (
        r"good (morning|afternoon|evening)|hello|hiya|hi|hey|howdy|greetings|yo",
        r"how are (you|u)( doing)?|how'?s it going|what'?s up|sup",
        r"bom dia|boa tarde|boa noite|ola|oi|oie|opa|e ai|eai|salve",
        r"tudo (bem|bom|certo|joia)|como (vai|voce esta|vc ta|esta)",
        r"buen(os)? dias?|buenas tardes|buenas noches|buenas|hola|que tal|como estas|como esta",
        r"bonjour|bonsoir|salut|coucou|ca va",
        r"buongiorno|buonasera|ciao|salve|come stai|come va",
    ),
}
_COMPILED = {kind: re.compile(r"\b(?:" + "|".join(p) + r")\b") for kind, p in _PHRASES.items()}


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that may surround small talk without making it a request: "hi there team", "ok thanks again".
_FILLER = _set(
    """
    there all everyone everybody team guys folks again so much very lot really just ok okay oh ah well and
    you too to the a an i am im is it its for your help helping great good nice perfect awesome cool sir
    madam dear friend please yes yeah
    pessoal gente todos voces vc voce tudo bem ai pela ajuda por a o e muito mesmo entao ta ok certo otimo
    perfeito beleza legal show sim senhor senhora amigo amiga
    todos ustedes por la ayuda muy bien vale perfecto genial claro si senor senora amigo amiga gracias
    tout le monde pour aide tres bien parfait oui
    tutti per aiuto molto bene perfetto si
    """
)
_WORD = re.compile(r"[a-z0-9']+")


def classify(text: str) -> str | None:
    """The small-talk kind of a message (one of KINDS), or None when it asks for anything else.

    "are you a bot?" wins over a greeting in the same message ("hi, are you a robot?"); "thanks, bye" is a
    goodbye; a lone "hello?" is `anyone_there`. Messages longer than 12 words are never small talk."""
    emoji = _emoji_kind(text)
    if emoji is not None:
        return emoji
    folded = fold(text)
    if not folded or len(folded.split()) > 12:
        return None
    found: list[str] = []
    rest = folded
    for kind, pattern in _COMPILED.items():
        if pattern.search(rest):
            found.append(kind)
            rest = pattern.sub(" ", rest)
    if not found or any(w not in _FILLER for w in _WORD.findall(rest)):
        return None
    if found == [GREETING] and folded.rstrip().endswith("?") and len(folded.split()) <= 2:
        return ANYONE_THERE  # "hello?", "oi?" — the customer is waiting for an answer
    return next(kind for kind in (ARE_YOU_A_BOT, ANYONE_THERE, GOODBYE, THANKS, GREETING) if kind in found)


def _emoji_kind(text: str) -> str | None:
    """GREETING or THANKS for a message of emoji only that says so (👋, 👍, 🙏), EMOJI for other emoji-only
    messages, None when the message has a letter or digit. Skin tones, variation selectors and ZWJ are ignored."""
    symbols = [c for c in text if not c.isspace() and unicodedata.category(c) not in ("Mn", "Cf", "Sk")]
    if not symbols or any(unicodedata.category(c) != "So" and not _is_punctuation(c) for c in symbols):
        return None
    emoji = [c for c in symbols if unicodedata.category(c) == "So"]
    if not emoji:
        return None
    kinds = {_EMOJI_KINDS.get(c) for c in emoji}
    if None in kinds:
        return EMOJI
    return GREETING if GREETING in kinds else THANKS


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")
