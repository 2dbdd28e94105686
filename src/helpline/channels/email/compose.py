"""An outgoing reply as a MIME message: threading headers, text + HTML parts, attachments, loop markers.

Threading follows RFC 5322 §3.6.4 (In-Reply-To the mail answered, References its chain plus its id); the
subject keeps the customer's with "Re:" and a `[#<conversation id>]` token, the fallback that threads a
reply whose client dropped the headers. Bot mails carry `Auto-Submitted: auto-replied` (RFC 3834 §5) and
`X-Auto-Response-Suppress: All` (Exchange) so auto-responders do not answer them.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from helpline.channels.base import DeliveryError, OutboundMessage, ThreadEntry
from helpline.channels.email.settings import EmailSettings
from helpline.platform.clock import utcnow

# RFC 5322 sets no limit; long chains break some servers (Exchange folds past ~1000 chars). Keep the root.
MAX_REFERENCES = 20
# Reply and forward prefixes mail clients add, in the languages our customers write: Re/RE (and "Re[2]:",
# "Re^2:"), AW (de), SV/VS (nordic), Antw (nl), Res/RES (pt), R/Rif (it), Fwd/Fw, Enc (pt), TR (fr), WG (de),
# RV (es); the colon may be full-width (CJK clients). A run of them is removed as one, so a reply to
# "Re: Fwd: RE: Pedido" is "Re: Pedido".
_PREFIXES = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|res|rif|r|fwd?|fw|enc|tr|wg|rv)\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:\uff1a]\s*)+",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\s*\[#\d{1,18}\]")


def message_id_for(settings: EmailSettings, message: OutboundMessage) -> str:
    """Stable for one Helpline message (a retried send keeps it), unique across channels and installs
    thanks to the channel's random salt; angle brackets not included."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"helpline:{settings.message_id_salt or settings.from_address}")
    return f"{uuid.uuid5(namespace, message.idempotency_key)}@{settings.domain}"


def reply_subject(subject: str, token: str = "") -> str:
    """The subject of a reply to a mail titled `subject`: one "Re: " before the subject without its reply and
    forward prefixes (never "Re: Re: " or "Re: Fwd: "), ending with `token` (the conversation's `[#id]`, which
    replaces any conversation token the subject had); "" when nothing is left of `subject`."""
    base = " ".join(subject.split())
    if token:
        base = _TOKEN.sub("", base)
    base = _PREFIXES.sub("", base).strip()
    if not base:
        return ""
    return f"Re: {base} {token}" if token else f"Re: {base}"


def _subject(thread: Sequence[ThreadEntry], conversation_id: int, fallback: str) -> str:
    token = f"[#{conversation_id}]"
    # The first customer mail with a subject names the thread (a later "Re: Re: …" says the same with noise).
    for entry in thread:
        original = str(entry.content.get("email", {}).get("subject") or "") if entry.inbound else ""
        if subject := reply_subject(original, token):
            return subject
    return f"{fallback} {token}"


def _threading(thread: Sequence[ThreadEntry], reply_to: str | None) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References): the customer's latest mail (or the one replied to), and the chain."""
    inbound = [e for e in thread if e.inbound]
    parent = reply_to or (inbound[-1].provider_message_id if inbound else None)
    chain: list[str] = []
    if inbound:
        chain.extend(str(r) for r in inbound[0].content.get("email", {}).get("references") or [])
    chain.extend(e.provider_message_id for e in thread)
    if parent:
        chain.append(parent)
    unique = list(dict.fromkeys(chain))
    if parent in unique:  # the parent is always the last reference
        unique.remove(parent)
        unique.append(parent)
    if len(unique) > MAX_REFERENCES:
        unique = [unique[0], *unique[-(MAX_REFERENCES - 1) :]]
    return parent, unique


def text_to_html(text: str) -> str:
    """The reply's text as simple escaped HTML: paragraphs on blank lines, line breaks kept."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f'<!DOCTYPE html><html><body><div dir="auto">{body}</div></body></html>'


def build_mail(settings: EmailSettings, message: OutboundMessage) -> EmailMessage:
    """The MIME message for `message`. Raises DeliveryError (permanent) when an attachment's bytes are gone."""
    mail = EmailMessage()
    mail["From"] = formataddr((settings.display_name or "", settings.from_address))
    mail["To"] = message.recipient_id
    fallback = f"Message from {settings.display_name or settings.from_address}"
    mail["Subject"] = _subject(message.thread, message.conversation_id, fallback)
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<{message_id_for(settings, message)}>"
    parent, references = _threading(message.thread, message.reply_to_provider_id)
    if parent:
        mail["In-Reply-To"] = f"<{parent}>"
    if references:
        mail["References"] = " ".join(f"<{r}>" for r in references)
    if message.author_kind == "bot":
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    elif message.author_kind == "system":
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
    text = message.text or ""
    mail.set_content(text or " ")
    mail.add_alternative(text_to_html(text), subtype="html")
    for item in message.attachments:
        if item.data is None:
            raise DeliveryError(f"file {item.filename!r} is no longer stored", retryable=False, code="file_missing")
        maintype, _, subtype = item.content_type.partition("/")
        mail.add_attachment(
            item.data, maintype=maintype or "application", subtype=subtype or "octet-stream", filename=item.filename
        )
    return mail


def sent_headers(mail: EmailMessage) -> dict[str, Any]:
    """What a sent reply keeps in its content["email"] (the keys an inbound mail has): {"message_id", "subject",
    "from", "to", "in_reply_to", "references"}; ids without angle brackets."""

    def ids(header: str) -> list[str]:
        return re.findall(r"<([^<>\s]+)>", str(mail.get(header) or ""))

    in_reply_to = ids("In-Reply-To")
    message_id = ids("Message-ID")
    return {
        "message_id": message_id[0] if message_id else None,
        "subject": str(mail["Subject"] or ""),
        "from": parseaddr(str(mail["From"] or ""))[1].lower(),
        "to": [parseaddr(str(mail["To"] or ""))[1].lower()],
        "in_reply_to": in_reply_to[0] if in_reply_to else None,
        "references": ids("References"),
    }
