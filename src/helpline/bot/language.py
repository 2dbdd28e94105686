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


# Frequent function words and small-talk words; enough to pick the language of a short chat message.
# Words shared by languages ("a", "no", "de") count for each, so they decide nothing on their own.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _set(
        "the i my is you to a and of it want need please with what how can do hello hi hey thanks thank bye "
        "yes morning afternoon evening where when have are was your for on in at this that not"
    ),
    "pt": _set(
        "o a eu meu minha e de do da que nao um uma com para quero preciso por favor ola oi voce obrigado "
        "obrigada valeu tchau sim bom boa tarde noite onde quando no na nos nas ao seu sua tive tenho estou foi "
        "ontem hoje amanha dia gostaria queria apolice isso voces vc vcs pra pro mto pq qd tbm ja mais tudo agora "
        "vou posso pode tem"
    ),
    "es": _set(
        "el la yo mi es de que no un una con para quiero necesito por favor hola usted gracias adios si "
        "buenos buenas dias tardes noches donde cuando su tengo tuve estoy fue ayer hoy manana coche poliza eso "
        "los las del puedo quisiera hay ustedes ahora todavia ya muy pero tienen puede"
    ),
    "fr": _set("le je mon ma est ne pas une avec pour veux besoin bonjour vous merci oui parler voudrais"),
    "it": _set("il io mio mia di che non un per voglio bisogno ciao buongiorno lei grazie vorrei parlare sono"),
}
# Letters only one of the close languages writes, to break a tie of words ("a qué hora", "chocaron mi carro").
_LETTERS = {"pt": frozenset("ãõçâêô"), "es": frozenset("ñ¿¡")}


# A guess is sure when its language has this many more of its words (a letter of its own counts half) than any
# other: one shared-looking word ("a", "de", "tem") is not enough to choose which language's scripts to match.
SURE_MARGIN = 2.0


def language_scores(text: str) -> dict[str, float]:
    """For each of LANGUAGES, how many words of `text` are its function or small-talk words, plus 0.5 when a
    letter only it writes occurs (ã/ç for pt, ñ/¿ for es)."""
    tokens = words(text)
    scores = {lang: float(sum(t in stop for t in tokens)) for lang, stop in _STOPWORDS.items()}
    lowered = text.casefold()
    for lang, letters in _LETTERS.items():
        scores[lang] += 0.5 * any(c in letters for c in lowered)
    return scores


def _ranked(text: str) -> tuple[str | None, float]:
    """The leading language (None when none leads: no known word, or a tie) and its margin over the next."""
    scores = language_scores(text)
    first, second = sorted(scores.values(), reverse=True)[:2]
    if first == 0 or first == second:
        return None, 0.0
    return max(scores, key=lambda lang: scores[lang]), first - second


def guess_language(text: str) -> str | None:
    """The language whose words occur most in `text`, or None when that is not clear: no word of any
    language ("ok", "?", "123", an emoji) or a tie ("a", "no")."""
    return _ranked(text)[0]


def sure_language(text: str) -> tuple[str | None, str | None]:
    """(sure, leaning): the language `text` is surely in (its words lead by SURE_MARGIN), else None; and the
    language it leans to (guess_language), which may be None. "I want to cancel my plan" → ("en", "en");
    "vocês funcionam domingo?" → (None, "pt"); "a entrega está atrasada" → (None, None)."""
    leaning, margin = _ranked(text)
    return (leaning if margin >= SURE_MARGIN else None), leaning


def detect_language(text: str, default: str = "en") -> str:
    """The language `text` is written in (guess_language), else `default`."""
    return guess_language(text) or default


def supported(value: object) -> str | None:
    """A locale or language tag ("pt-BR", "en_US", "ES") as one of LANGUAGES, or None."""
    if not isinstance(value, str):
        return None
    base = value.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello! I am the virtual assistant.",
        "offer": "I can help you with:",
        "offer_hint": "Reply with the number or tell me in your own words what you need.",
        "ask_need": "How can I help you today?",
        "thanks": "You're welcome! Is there anything else I can help with?",
        "welcome": "You're welcome!",
        "goodbye": "Thank you for writing. Have a nice day!",
        "are_you_a_bot": (
            "I am the virtual assistant (a bot). I can take care of common requests right here, and if you "
            "prefer a person, just say so and I will pass you to our team."
        ),
        "anyone_there": "Yes, I am here!",
        "for_example": "For example: {example}",
        "confirm": 'I understood {value} for "{question}" — is that right? (yes or no)',
        "yes_or_no": "yes or no",
        "case_created": "I have passed your request to our team with everything you told me.",
        "fallback": (
            "Sorry, I can't help with that here. Tell me in other words what you need, or ask for a person and "
            "I will pass you to our team."
        ),
        "clarify": "I can help with a few things. Which one do you mean?",
        "clarify_hint": "Reply with the number or the name.",
        "escalate": "I am passing you to a member of our team now; they will reply here shortly.",
        "date_passed": "That day has already passed.",
        "date_ahead": "That day is still to come; I need the day it happened.",
        "ack": "Sure, take your time.",
        "retry": "Sorry, I could not read that answer.",
        "off_topic": "Sorry, I can't help with that here.",
        "off_topic_person": "If you would rather talk to a person, just ask.",
        "start": "I can help you with {name}.",
        "article_source": "(from our help article: {title})",
        "noted": 'Noted: {value} for "{question}".',
        "changed": 'I changed "{question}" to {value}.',
        "dont_know": (
            "No problem. I need it to go on here; if you don't have it "
            "to hand, just ask for a person and our team will help."
        ),
    },
    "pt": {
        "greeting": "Olá! Eu sou o assistente virtual.",
        "offer": "Posso ajudar com:",
        "offer_hint": "Responda com o número ou me diga com suas palavras o que precisa.",
        "ask_need": "Como posso ajudar hoje?",
        "thanks": "Por nada! Posso ajudar em mais alguma coisa?",
        "welcome": "Por nada!",
        "goodbye": "Obrigado pelo contato. Tenha um ótimo dia!",
        "are_you_a_bot": (
            "Eu sou o assistente virtual (um robô). Resolvo os pedidos mais comuns por aqui e, se preferir "
            "falar com uma pessoa, é só pedir que eu passo você para a nossa equipe."
        ),
        "anyone_there": "Sim, estou aqui!",
        "for_example": "Por exemplo: {example}",
        "confirm": 'Entendi {value} para "{question}" — está certo? (sim ou não)',
        "yes_or_no": "sim ou não",
        "case_created": "Passei seu pedido para a nossa equipe com tudo o que você me contou.",
        "fallback": (
            "Desculpe, não consigo ajudar com isso por aqui. Diga com outras palavras o que precisa, ou peça "
            "para falar com uma pessoa que eu passo você para a nossa equipe."
        ),
        "clarify": "Posso ajudar com algumas coisas. Qual delas você quer?",
        "clarify_hint": "Responda com o número ou o nome.",
        "escalate": "Vou transferir você para alguém da nossa equipe; em breve você terá resposta aqui.",
        "date_passed": "Esse dia já passou.",
        "date_ahead": "Esse dia ainda não chegou; preciso do dia em que aconteceu.",
        "ack": "Claro, sem pressa.",
        "retry": "Desculpe, não consegui entender essa resposta.",
        "off_topic": "Desculpe, não consigo ajudar com isso por aqui.",
        "off_topic_person": "Se preferir falar com uma pessoa, é só pedir.",
        "start": "Posso ajudar com {name}.",
        "article_source": "(do nosso artigo de ajuda: {title})",
        "noted": 'Anotado: {value} para "{question}".',
        "changed": 'Corrigi "{question}" para {value}.',
        "dont_know": (
            "Sem problema. Preciso dessa informação para continuar por aqui; se não a tiver "
            "à mão, é só pedir para falar com uma pessoa que a nossa equipe ajuda."
        ),
    },
    "es": {
        "greeting": "¡Hola! Soy el asistente virtual.",
        "offer": "Puedo ayudarle con:",
        "offer_hint": "Responda con el número o dígame con sus palabras lo que necesita.",
        "ask_need": "¿En qué puedo ayudarle hoy?",
        "thanks": "¡De nada! ¿Puedo ayudarle con algo más?",
        "welcome": "¡De nada!",
        "goodbye": "Gracias por escribirnos. ¡Que tenga un buen día!",
        "are_you_a_bot": (
            "Soy el asistente virtual (un bot). Resuelvo aquí las solicitudes más comunes y, si prefiere "
            "hablar con una persona, dígamelo y le paso con nuestro equipo."
        ),
        "anyone_there": "¡Sí, aquí estoy!",
        "for_example": "Por ejemplo: {example}",
        "confirm": 'Entendí {value} para "{question}", ¿es correcto? (sí o no)',
        "yes_or_no": "sí o no",
        "case_created": "He pasado su solicitud a nuestro equipo con todo lo que me ha contado.",
        "fallback": (
            "Lo siento, no puedo ayudar con eso aquí. Dígame con otras palabras lo que necesita, o pida hablar "
            "con una persona y le paso con nuestro equipo."
        ),
        "clarify": "Puedo ayudar con varias cosas. ¿Cuál quiere?",
        "clarify_hint": "Responda con el número o el nombre.",
        "escalate": "Le paso con una persona de nuestro equipo; le responderá aquí en breve.",
        "date_passed": "Ese día ya pasó.",
        "date_ahead": "Ese día aún no ha llegado; necesito el día en que ocurrió.",
        "ack": "Claro, sin prisa.",
        "retry": "Lo siento, no pude entender esa respuesta.",
        "off_topic": "Lo siento, no puedo ayudar con eso por aquí.",
        "off_topic_person": "Si prefiere hablar con una persona, solo pídalo.",
        "start": "Puedo ayudarle con {name}.",
        "article_source": "(de nuestro artículo de ayuda: {title})",
        "noted": 'Anotado: {value} para "{question}".',
        "changed": 'He cambiado "{question}" a {value}.',
        "dont_know": (
            "No hay problema. Lo necesito para continuar aquí; si no lo tiene "
            "a mano, pida hablar con una persona y nuestro equipo le ayudará."
        ),
    },
    "fr": {
        "greeting": "Bonjour ! Je suis l'assistant virtuel.",
        "offer": "Je peux vous aider pour :",
        "offer_hint": "Répondez avec le numéro ou dites-moi avec vos mots ce dont vous avez besoin.",
        "ask_need": "Comment puis-je vous aider ?",
        "thanks": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "welcome": "Avec plaisir !",
        "goodbye": "Merci de nous avoir écrit. Bonne journée !",
        "are_you_a_bot": (
            "Je suis l'assistant virtuel (un robot). Si vous préférez une personne, dites-le et je vous mets "
            "en relation avec notre équipe."
        ),
        "anyone_there": "Oui, je suis là !",
        "for_example": "Par exemple : {example}",
        "confirm": "J'ai compris {value} pour « {question} » — est-ce correct ? (oui ou non)",
        "yes_or_no": "oui ou non",
        "case_created": "J'ai transmis votre demande à notre équipe avec tout ce que vous m'avez dit.",
        "fallback": (
            "Désolé, je ne peux pas vous aider avec cela ici. Reformulez votre demande, ou demandez à parler à "
            "une personne et je vous mets en relation avec notre équipe."
        ),
        "clarify": "Je peux vous aider pour plusieurs choses. Laquelle ?",
        "clarify_hint": "Répondez avec le numéro ou le nom.",
        "escalate": "Je vous mets en relation avec un membre de notre équipe ; il vous répondra ici.",
        "date_passed": "Ce jour est déjà passé.",
        "date_ahead": "Ce jour n'est pas encore arrivé ; il me faut le jour où c'est arrivé.",
        "ack": "Bien sûr, prenez votre temps.",
        "retry": "Désolé, je n'ai pas pu lire cette réponse.",
        "off_topic": "Désolé, je ne peux pas vous aider avec cela ici.",
        "off_topic_person": "Si vous préférez parler à une personne, demandez-le.",
        "start": "Je peux vous aider pour : {name}.",
        "article_source": "(de notre article d'aide : {title})",
        "noted": "C'est noté : {value} pour « {question} ».",
        "changed": "J'ai corrigé « {question} » : {value}.",
        "dont_know": (
            "Pas de souci. J'en ai besoin pour continuer ici ; si vous ne l'avez "
            "pas sous la main, demandez une personne et notre équipe vous aidera."
        ),
    },
    "it": {
        "greeting": "Salve! Sono l'assistente virtuale.",
        "offer": "Posso aiutarla con:",
        "offer_hint": "Risponda con il numero o mi dica con parole sue di cosa ha bisogno.",
        "ask_need": "Come posso aiutarla oggi?",
        "thanks": "Prego! Posso aiutarla con qualcos'altro?",
        "welcome": "Prego!",
        "goodbye": "Grazie per averci scritto. Buona giornata!",
        "are_you_a_bot": (
            "Sono l'assistente virtuale (un bot). Se preferisce una persona, me lo dica e la passo al nostro team."
        ),
        "anyone_there": "Sì, sono qui!",
        "for_example": "Per esempio: {example}",
        "confirm": 'Ho capito {value} per "{question}" — è corretto? (sì o no)',
        "yes_or_no": "sì o no",
        "case_created": "Ho passato la sua richiesta al nostro team con tutto quello che mi ha detto.",
        "fallback": (
            "Scusi, non posso aiutarla con questo qui. Mi dica con altre parole di cosa ha bisogno, o chieda di "
            "parlare con una persona e la passo al nostro team."
        ),
        "clarify": "Posso aiutarla con alcune cose. Quale intende?",
        "clarify_hint": "Risponda con il numero o il nome.",
        "escalate": "La passo a una persona del nostro team; le risponderà qui a breve.",
        "date_passed": "Quel giorno è già passato.",
        "date_ahead": "Quel giorno non è ancora arrivato; mi serve il giorno in cui è successo.",
        "ack": "Certo, con calma.",
        "retry": "Scusi, non ho capito la risposta.",
        "off_topic": "Mi dispiace, non posso aiutarla con questo qui.",
        "off_topic_person": "Se preferisce parlare con una persona, basta chiederlo.",
        "start": "Posso aiutarla con {name}.",
        "article_source": "(dal nostro articolo di aiuto: {title})",
        "noted": 'Annotato: {value} per "{question}".',
        "changed": 'Ho corretto "{question}" in {value}.',
        "dont_know": (
            "Nessun problema. Mi serve per continuare qui; se non ce l'ha a "
            "portata di mano, chieda una persona e il nostro team la aiuterà."
        ),
    },
}


def say(lang: str, key: str, **values: object) -> str:
    """One of the bot's own sentences in `lang` (English when the language is not covered)."""
    template = _PHRASES.get(lang, _PHRASES["en"]).get(key) or _PHRASES["en"][key]
    return template.format(**values)
