"""What a script's closing message may promise: only what the script's end does (checked when it is saved).

A script that ends with `close` does nothing after its closing message, so that message must not say that
someone will call, that something was registered, booked or will be sent. Phrases in EN, PT, ES, FR, IT on
folded text; a company that needs another wording uses `end: case` or `end: webhook`, which do follow up.
"""

from __future__ import annotations

import re

from helpline.bot.language import fold
from helpline.bot.schemas import ScriptDefinition

_PROMISES = re.compile(
    r"\b("
    r"will (call|contact|email|e-mail|text|get back|be in touch|send|reply|follow up|process|confirm)|"
    r"(you will|you'll) (receive|get|hear)|we('ll| will)|our (team|staff|agents?|colleagues?)|someone will|"
    r"(is|are|was|were|has been|have been) (registered|recorded|logged|opened|booked|scheduled|cancell?ed|"
    r"created|submitted|filed)|"
    r"(vai|vamos|vao|ira|irao) (ligar|entrar em contato|enviar|retornar|responder)|entraremos em contato|"
    r"retornaremos|enviaremos|voce (recebera|vai receber)|nossa equipe|"
    r"(foi|esta|estao|foram) (registrad|agendad|marcad|cancelad|abert)[oa]s?|"
    r"(le |lo |la )?(llamaremos|contactaremos|enviaremos)|nos pondremos en contacto|recibira|nuestro equipo|"
    r"(ha sido|fue|esta) (registrad|reservad|cancelad|programad)[oa]|"
    r"nous (vous )?(appellerons|contacterons|enverrons)|vous recevrez|notre equipe|"
    r"(est|a ete) (enregistre|reserve|annule)e?|"
    r"(la )?(chiameremo|contatteremo|invieremo)|ricevera|il nostro team|(e stat[oa]) (registrat|prenotat)[oa]"
    r")"
)


def broken_promise(definition: ScriptDefinition) -> str | None:
    """The words of the closing message that promise a follow-up the script's end does not do, or None."""
    if definition.end_kind != "close" or not definition.closing_message:
        return None
    match = _PROMISES.search(fold(definition.closing_message))
    return match.group(0) if match else None


def stop_promise(definition: ScriptDefinition) -> tuple[str, str] | None:
    """(step key, promising words) of a `stop_if_no` message that promises a follow-up, or None: after a "no"
    the script stops and nothing is done, whatever its end."""
    for step in definition.steps:
        match = _PROMISES.search(fold(step.stop_if_no or ""))
        if match:
            return step.key, match.group(0)
    return None
