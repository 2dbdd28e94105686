"""Mail that must never be answered automatically (RFC 3834 §2, §5) and delivery reports (RFC 3464).

Auto-replies, lists and bounces answered by a bot start mail loops; these rules are the ones
provider-contracts §6 lists. A delivery report is not a customer writing: it marks the original outbound
message failed (5.x.x) and never opens a conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_string
from email.message import EmailMessage, Message
from email.utils import parseaddr

_MACHINE_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+\-.][^@]*)?@", re.IGNORECASE
)
_BULK = {"bulk", "list", "junk"}
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")


def automated_reason(message: Message) -> str | None:
    """Why `message` must not get an automatic answer (a short phrase), or None for a person's mail."""
    auto = str(message.get("Auto-Submitted", "") or "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto[:60]}"
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    if precedence in _BULK:
        return f"Precedence: {precedence}"
    for header in ("List-Id", "List-Unsubscribe", *_AUTO_HEADERS):
        if message.get(header) is not None:
            return f"{header} present"
    return_path = message.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "empty Return-Path"
    sender = parseaddr(str(message.get("From", "") or ""))[1]
    if _MACHINE_SENDERS.match(sender):
        return f"machine sender {sender}"
    return None


@dataclass(frozen=True)
class Bounce:
    """A failed delivery: the Message-ID we sent (angle brackets removed), the RFC 3463 status and why."""

    original_message_id: str | None
    status: str
    action: str
    reason: str
    recipient: str | None


def is_delivery_report(message: Message) -> bool:
    return message.get_content_type() == "multipart/report" and (
        str(message.get_param("report-type", "") or "").lower() == "delivery-status"
    )


def read_bounce(message: EmailMessage) -> Bounce | None:
    """The first per-recipient block of a `multipart/report; report-type=delivery-status`, or None when the
    mail is no delivery report. The original Message-ID comes from the returned message or its headers."""
    if not is_delivery_report(message):
        return None
    status = action = recipient = diagnostic = ""
    original: str | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in _status_blocks(part):
                if block.get("Action") or block.get("Status"):
                    status = str(block.get("Status", "") or "").strip()
                    action = str(block.get("Action", "") or "").strip().lower()
                    recipient = str(block.get("Final-Recipient", "") or "").split(";")[-1].strip()
                    diagnostic = str(block.get("Diagnostic-Code", "") or "").split(";", 1)[-1].strip()
                    break
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers") and original is None:
            original = _original_id(part)
    if not status and not action:
        return None
    reason = diagnostic or f"delivery {action or 'failed'} with status {status}"
    return Bounce(original, status, action, " ".join(reason.split())[:1000], recipient or None)


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    # Some servers send the blocks as text: parse "Field: value" groups separated by blank lines.
    text = payload if isinstance(payload, str) else ""
    return [message_from_string(chunk.strip() + "\n") for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]


def _original_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        value = payload[0].get("Message-ID")
    else:
        raw = part.get_payload(decode=True)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload or "")
        match = re.search(r"^Message-ID:\s*(<[^>]+>)", text, re.IGNORECASE | re.MULTILINE)
        value = match.group(1) if match else None
    return str(value).strip().strip("<>") if value else None
