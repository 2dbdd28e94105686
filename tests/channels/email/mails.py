"""Mails as customers' clients write them, for the email channel tests."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from helpline.platform.clock import utcnow


def customer_mail(
    message_id: str,
    text: str,
    *,
    subject: str = "Pedido 1234 não chegou",
    sender: str = "Ana Souza <ana@example.com>",
    to: str = "support@helpline.test",
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    files: list[tuple[str, str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{r}>" for r in references)
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    for filename, content_type, data in files or []:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


def bounce_for(original_message_id: str, status: str = "5.1.1") -> bytes:
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nReturn-Path: <>\r\n"
        b"To: support@helpline.test\r\nMessage-ID: <dsn-" + original_message_id.encode() + b">\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="D"\r\n\r\n'
        b"--D\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n"
        b"--D\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; ana@example.com\r\nAction: failed\r\nStatus: " + status.encode() + b"\r\n"
        b"Diagnostic-Code: smtp; 550 " + status.encode() + b" <ana@example.com>: Recipient address rejected\r\n\r\n"
        b"--D\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + original_message_id.encode() + b">\r\n"
        b"--D--\r\n"
    )
