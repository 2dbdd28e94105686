"""The new part of a reply: quoted history and the signature cut from the text an operator reads.

Heuristics of provider-contracts §6 (as GitHub's email_reply_parser and Mailgun's talon apply them): the
first "On … wrote:" line (several languages), "-----Original Message-----", an Outlook header block
(From:/Sent:/To:/Subject:), a trailing run of ">" lines, and the "-- " signature separator (RFC 3676 §4.3).
The full text is always kept beside it; this only decides what is shown first.
"""

from __future__ import annotations

import re

_WROTE = re.compile(
    r"^\s*(On|Am|Le|El|Em|Il|Op|Den|W dniu)\b.{0,300}?"
    r"(wrote|schrieb|a écrit|escribió|escreveu|ha scritto|schreef|skrev|napisał)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Mensagem original|Ursprüngliche Nachricht)\s*-{2,}", re.I)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|De|Von|Van)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|Enviado|Gesendet|Verzonden|To|Para|An|Aan|Subject|Assunto)\s*:", re.I)
_SIGNATURE = re.compile(r"^-- ?$")
# A forward's marker (Gmail, Outlook, Apple Mail; EN/PT/ES/DE/FR): what follows it is the content the sender
# passes on, not history to hide.
_FORWARDED = re.compile(
    r"^\s*(-{2,}\s*(Forwarded message|Mensagem encaminhada|Mensaje reenviado|Weitergeleitete Nachricht|"
    r"Message transféré|Forwarded Message)\s*-{2,}|Begin forwarded message\s*:|Início da mensagem encaminhada\s*:)",
    re.IGNORECASE,
)


def forwards(text: str) -> bool:
    """True when `text` carries a forwarded mail (a forward's marker line)."""
    return any(_FORWARDED.match(line) for line in text.replace("\r\n", "\n").split("\n"))


def strip_reply(text: str) -> str:
    """`text` up to the first quote marker or signature, trailing blank lines removed; the whole text when
    nothing would be left, or when a forward's marker comes first (a forwarded mail is the content)."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _FORWARDED.match(line):
            return text.strip()
        # "On Mon, 1 Jan 2026, Ana <ana@x> wrote:" is often wrapped over two lines.
        joined = line if index + 1 >= len(lines) else line + " " + lines[index + 1]
        if _WROTE.match(line) or (_WROTE.match(joined) and not line.rstrip().endswith(":")):
            cut = index
            break
        if _ORIGINAL.match(line) or _SIGNATURE.match(line):
            cut = index
            break
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(nxt) for nxt in lines[index + 1 : index + 4]):
            cut = index
            break
        if line.startswith(">") and all(not rest.strip() or rest.startswith(">") for rest in lines[index:]):
            cut = index
            break
    kept = "\n".join(lines[:cut]).rstrip()
    return kept if kept.strip() else text.strip()
