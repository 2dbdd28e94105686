"""Raw RFC 5322 bytes → what Helpline stores: sender, threading ids, text, safe HTML, files, loop flags.

Parsed by the standard library (`email`, policy.default). Nothing here raises on bad mail: a part that
cannot be read is skipped with its error recorded in `errors`, so a malformed message is kept with what
could be read and never stops the mailbox poller.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from helpline.channels.email import html as html_tools
from helpline.channels.email.charsets import decode_text
from helpline.channels.email.loops import Bounce, automated_reason, read_bounce
from helpline.channels.email.quotes import forwards, strip_reply

_MSGID = re.compile(r"<([^<>\s]+)>")
_TOKEN = re.compile(r"\[#(\d{1,18})\]")
MAX_ERRORS = 20


@dataclass(frozen=True)
class MailFile:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str
    sender_address: str
    sender_name: str | None
    subject: str
    date: datetime | None
    in_reply_to: str | None
    references: list[str]
    to: list[str]
    cc: list[str]
    text: str  # the full plain text (from the text part, else from the HTML)
    new_text: str  # what is new in this mail: quoted history and signature cut
    html: str | None  # sanitised
    blocked_images: int
    files: list[MailFile]
    automated: str | None  # why no automatic answer may be sent, or None
    bounce: Bounce | None
    errors: list[str] = field(default_factory=list)

    @property
    def thread_refs(self) -> list[str]:
        """Ids this mail answers, most specific first: In-Reply-To, then References newest to oldest."""
        refs = [self.in_reply_to] if self.in_reply_to else []
        refs += [r for r in reversed(self.references) if r not in refs]
        return refs

    def conversation_token(self, plus_tags: list[str]) -> int | None:
        """A conversation id from a `[#123]` subject token or a plus-address tag (`support+c123@…`)."""
        for tag in plus_tags:
            if (match := re.fullmatch(r"c(\d{1,18})", tag)) is not None:
                return int(match.group(1))
        match = _TOKEN.search(self.subject)
        return int(match.group(1)) if match else None


def message_ids(value: object) -> list[str]:
    """The ids in a Message-ID / In-Reply-To / References header, angle brackets removed (RFC 5322 §3.6.4)."""
    return _MSGID.findall(str(value or ""))


def _header(message: Message, name: str, errors: list[str]) -> str:
    try:
        value = message.get(name)
    except Exception as exc:  # a header policy.default cannot parse: keep the raw value
        errors.append(f"header {name}: {type(exc).__name__}: {exc}")
        raw = dict(message.raw_items()).get(name) if hasattr(message, "raw_items") else None
        return str(raw or "")
    return str(value or "")


def _part_text(part: Message, errors: list[str]) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = str(part.get_payload() or "").encode("utf-8", "replace")
    text, problem = decode_text(data, part.get_content_charset())
    if problem:
        errors.append(f"{part.get_content_type()}: {problem}")
    return text


def _filename(part: Message, index: int, errors: list[str]) -> str:
    try:
        name = part.get_filename()
    except Exception as exc:
        errors.append(f"file name of part {index}: {exc}")
        name = None
    if name:
        return str(name).replace("/", "_").replace("\\", "_").strip() or f"attachment-{index}"
    kind = part.get_content_type()
    extension = ".eml" if kind == "message/rfc822" else (mimetypes.guess_extension(kind) or ".bin")
    return f"attachment-{index}{extension}"


def _is_body_candidate(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return part.get_content_type() in ("text/plain", "text/html") and disposition != "attachment"


def parse_mail(raw: bytes, *, allow_remote_images: bool = False) -> ParsedMail:
    """Parse one mail. Never raises: an unreadable part is skipped and named in `errors`.

    The Message-ID falls back to a digest of the bytes (`sha256-…@helpline.invalid`) so a re-poll of a mail
    without one still deduplicates."""
    errors: list[str] = []
    message = message_from_bytes(raw, policy=policy.default)
    for defect in message.defects[:MAX_ERRORS]:
        errors.append(f"MIME defect: {type(defect).__name__}")
    ids = message_ids(_header(message, "Message-ID", errors))
    message_id = ids[0] if ids else f"sha256-{hashlib.sha256(raw).hexdigest()[:40]}@helpline.invalid"
    sender_name, sender_address = parseaddr(_header(message, "From", errors))
    if not sender_address:
        sender_name, sender_address = parseaddr(
            _header(message, "Sender", errors) or _header(message, "Reply-To", errors)
        )
    date: datetime | None = None
    try:
        if raw_date := _header(message, "Date", errors):
            date = parsedate_to_datetime(raw_date)
            date = date if date.tzinfo else date.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError) as exc:
        errors.append(f"Date header unreadable: {exc}")

    texts: list[str] = []
    htmls: list[str] = []
    files: list[MailFile] = []
    for index, part in enumerate(_leaves(message, errors), start=1):
        try:
            kind = part.get_content_type()
            if kind.startswith("multipart/"):
                # Its boundary never appears: the parts cannot be told apart, the body is kept as text.
                errors.append(f"{kind} without its boundary: the body is kept as text")
                texts.append(str(part.get_payload() or ""))
                continue
            if _is_body_candidate(part) and not part.get_filename():
                (texts if kind == "text/plain" else htmls).append(_part_text(part, errors))
                continue
            data = part.get_payload(decode=True)
            if kind == "message/rfc822" or not isinstance(data, bytes):
                data = part.as_bytes() if kind == "message/rfc822" else bytes(str(part.get_payload() or ""), "utf-8")
            content_id = message_ids(part.get("Content-ID"))
            files.append(
                MailFile(
                    filename=_filename(part, index, errors),
                    content_type=kind,
                    data=data,
                    content_id=content_id[0] if content_id else None,
                    inline=(part.get_content_disposition() or "") == "inline" or bool(content_id),
                )
            )
        except Exception as exc:
            errors.append(f"part {index} ({part.get_content_type()}) unreadable: {type(exc).__name__}: {exc}")

    clean = html_tools.sanitize("\n".join(htmls), allow_remote_images=allow_remote_images) if htmls else None
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    new_text = strip_reply(text) if text else ""
    if not text and htmls:
        text = html_tools.to_text("\n".join(htmls))
        # Gmail wraps a forward in its quote block too: a forwarded mail is the content, never cut.
        new_text = text if forwards(text) else html_tools.to_text(html_tools.without_quotes("\n".join(htmls))) or text
    if bounce := read_bounce(message) if isinstance(message, EmailMessage) else None:
        files = [f for f in files if f.content_type not in ("message/delivery-status",)]
    return ParsedMail(
        message_id=message_id,
        sender_address=sender_address.strip().lower(),
        sender_name=sender_name.strip() or None,
        subject=" ".join(_header(message, "Subject", errors).split()),
        date=date,
        in_reply_to=next(iter(message_ids(_header(message, "In-Reply-To", errors))), None),
        references=message_ids(_header(message, "References", errors)),
        to=[a.lower() for _, a in getaddresses([_header(message, "To", errors)]) if a],
        cc=[a.lower() for _, a in getaddresses([_header(message, "Cc", errors)]) if a],
        text=text,
        new_text=new_text,
        html=clean.html if clean else None,
        blocked_images=clean.blocked_images if clean else 0,
        files=files,
        automated=automated_reason(message),
        bounce=bounce,
        errors=errors[:MAX_ERRORS],
    )


def _leaves(message: Message, errors: list[str]) -> list[Message]:
    """The non-multipart parts in order; an attached mail (message/rfc822) is one leaf, not opened."""
    found: list[Message] = []

    def visit(part: Message, depth: int) -> None:
        if depth > 30:
            errors.append("MIME nesting deeper than 30 levels: the rest was skipped")
            return
        if part.get_content_type() in ("message/rfc822",) and part is not message:
            found.append(part)
            return
        if part.is_multipart():
            payload = part.get_payload()
            for child in payload if isinstance(payload, list) else []:
                if isinstance(child, Message):
                    visit(child, depth + 1)
            return
        if part.get_content_type() in ("message/delivery-status", "text/rfc822-headers"):
            return
        found.append(part)

    visit(message, 0)
    return found
