"""Text folding, a light language guess and the bot's own sentences in EN, PT, ES, FR and IT."""

from __future__ import annotations

import re
import unicodedata

LANGUAGES = ("en", "pt", "es", "fr", "it")

_WORD = re.compile(r"[a-z0-9]+")


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def fold(text: str) -> str:
    """Lower case, accents removed, runs of space collapsed: "Não, OBRIGADO!" → "nao, obrigado!"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


# Frequent function words; enough to pick the language of a short chat message.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _set("the i my is you to a and of it want need please with what how can do hello hi"),
    "pt": _set("o a eu meu minha e de do da que nao um uma com para quero preciso por favor ola oi voce"),
    "es": _set("el la yo mi es de que no un una con para quiero necesito por favor hola usted"),
    "fr": _set("le la je mon ma est de que ne pas un une avec pour veux besoin bonjour vous"),
    "it": _set("il la io mio mia e di che non un una con per voglio bisogno ciao buongiorno lei"),
}


def detect_language(text: str, default: str = "en") -> str:
    """The language whose function words occur most; `default` on a tie or no evidence."""
    tokens = words(text)
    scores = {lang: sum(t in stop for t in tokens) for lang, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return default if scores[best] == 0 or scores.get(default) == scores[best] else best


_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "fallback": "Sorry, I did not quite understand. Could you tell me in other words what you need?",
        "clarify": "I can help with a few things. Which one do you mean?",
        "clarify_hint": "Reply with the number or the name.",
        "escalate": "I am passing you to a member of our team now; they will reply here shortly.",
        "retry": "Sorry, I could not read that answer.",
        "start": "I can help you with {name}.",
        "article_source": "(from our help article: {title})",
    },
    "pt": {
        "fallback": "Desculpe, não entendi bem. Pode me dizer com outras palavras o que precisa?",
        "clarify": "Posso ajudar com algumas coisas. Qual delas você quer?",
        "clarify_hint": "Responda com o número ou o nome.",
        "escalate": "Vou transferir você para alguém da nossa equipe; em breve você terá resposta aqui.",
        "retry": "Desculpe, não consegui entender essa resposta.",
        "start": "Posso ajudar com {name}.",
        "article_source": "(do nosso artigo de ajuda: {title})",
    },
    "es": {
        "fallback": "Lo siento, no entendí bien. ¿Puede decirme con otras palabras lo que necesita?",
        "clarify": "Puedo ayudar con varias cosas. ¿Cuál quiere?",
        "clarify_hint": "Responda con el número o el nombre.",
        "escalate": "Le paso con una persona de nuestro equipo; le responderá aquí en breve.",
        "retry": "Lo siento, no pude entender esa respuesta.",
        "start": "Puedo ayudarle con {name}.",
        "article_source": "(de nuestro artículo de ayuda: {title})",
    },
    "fr": {
        "fallback": "Désolé, je n'ai pas bien compris. Pouvez-vous reformuler votre demande ?",
        "clarify": "Je peux vous aider pour plusieurs choses. Laquelle ?",
        "clarify_hint": "Répondez avec le numéro ou le nom.",
        "escalate": "Je vous mets en relation avec un membre de notre équipe ; il vous répondra ici.",
        "retry": "Désolé, je n'ai pas pu lire cette réponse.",
        "start": "Je peux vous aider pour : {name}.",
        "article_source": "(de notre article d'aide : {title})",
    },
    "it": {
        "fallback": "Scusi, non ho capito bene. Può dirmi con altre parole di cosa ha bisogno?",
        "clarify": "Posso aiutarla con alcune cose. Quale intende?",
        "clarify_hint": "Risponda con il numero o il nome.",
        "escalate": "La passo a una persona del nostro team; le risponderà qui a breve.",
        "retry": "Scusi, non ho capito la risposta.",
        "start": "Posso aiutarla con {name}.",
        "article_source": "(dal nostro articolo di aiuto: {title})",
    },
}


def say(lang: str, key: str, **values: object) -> str:
    """One of the bot's own sentences in `lang` (English when the language is not covered)."""
    template = _PHRASES.get(lang, _PHRASES["en"]).get(key) or _PHRASES["en"][key]
    return template.format(**values)
