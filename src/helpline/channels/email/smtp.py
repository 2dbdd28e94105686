"""Sending one mail over SMTP (aiosmtplib): STARTTLS or implicit TLS, password or XOAUTH2, errors in words.

RFC 5321 §4.2.1: 4yz replies are transient (retried with the outbox's backoff), 5yz permanent (the message
fails with the server's own text); RFC 4954 535 (authentication refused) flags the channel needs-reauth.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from helpline.channels.base import DeliveryError

TIMEOUT_SECONDS = 60.0


def _words(code: int, text: str) -> str:
    return f"the mail server answered {code}: {' '.join(str(text).split())[:500]}"


async def send_mail(
    mail: EmailMessage,
    *,
    host: str,
    port: int,
    security: str,
    username: str | None,
    password: str | None = None,
    xoauth2: str | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> str:
    """Hand `mail` to the server; returns its final reply text (e.g. "2.0.0 Ok: queued as …").

    `security`: `tls` (implicit TLS), `starttls` (upgrade required) or `none`. `xoauth2` is the base64 SASL
    XOAUTH2 response. Raises DeliveryError (retryable for 4yz and network faults)."""
    client = aiosmtplib.SMTP(
        hostname=host,
        port=port,
        use_tls=security == "tls",
        start_tls=security == "starttls",
        timeout=TIMEOUT_SECONDS,
        tls_context=tls_context,
    )
    try:
        async with client:
            if xoauth2 is not None:
                if client.last_ehlo_response is None:
                    await client.ehlo()
                reply = await client.execute_command(b"AUTH", b"XOAUTH2", xoauth2.encode())
                if reply.code == 334:  # the server's error challenge; an empty line ends the exchange
                    reply = await client.execute_command(b"")
                if reply.code != 235:
                    raise aiosmtplib.SMTPAuthenticationError(reply.code, reply.message)
            elif username and password:
                await client.login(username, password)
            errors, final = await client.send_message(mail)
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            _words(exc.code, exc.message) + " (login refused: check or re-authorise the mailbox)",
            retryable=400 <= exc.code < 500,  # 454: temporary authentication failure
            code=f"smtp_{exc.code}",
            needs_reauth=exc.code >= 500,
        ) from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        first = exc.recipients[0]
        raise DeliveryError(
            f"{first.recipient} refused: {_words(first.code, first.message)}",
            retryable=400 <= first.code < 500,
            code=f"smtp_{first.code}",
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise DeliveryError(
            _words(exc.code, exc.message), retryable=400 <= exc.code < 500, code=f"smtp_{exc.code}"
        ) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise DeliveryError(f"mail server unreachable: {exc}", retryable=True, code="smtp_network") from exc
    if errors:
        recipient, (code, text) = next(iter(errors.items()))
        raise DeliveryError(
            f"{recipient} refused: {_words(code, text)}", retryable=400 <= code < 500, code=f"smtp_{code}"
        )
    return final
