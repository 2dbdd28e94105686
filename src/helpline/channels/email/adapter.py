"""Adapter for email channels: a mail read by the mailbox poller becomes events; replies go out over SMTP.

There is no webhook: `channels/email/poller.py` (run by the workers) reads the mailbox over IMAP and hands
each raw mail to `events_from_mail`, which is pure like every adapter's parser.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from helpline.channels.base import (
    ChannelConfig,
    DeliveryError,
    DeliveryStatusChanged,
    InboundAttachment,
    InboundContact,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    PayloadInvalid,
    PreparedChannel,
    ReplyWindow,
    SentReceipt,
    WebhookRejected,
)
from helpline.channels.email import oauth
from helpline.channels.email.compose import build_mail, message_id_for, sent_headers
from helpline.channels.email.imap import ImapMailbox, MailboxLoginRefused
from helpline.channels.email.parse import ParsedMail, parse_mail
from helpline.channels.email.settings import EmailCredentials, EmailSettings
from helpline.channels.email.smtp import send_mail
from helpline.channels.limits import MediaRule, SendLimits

MB = 1024 * 1024


class EmailAdapter:
    kind: ClassVar[str] = "email"
    window: ClassVar[ReplyWindow | None] = None  # mail can be answered any time
    # Gmail and Microsoft 365 take 25 MB per message (Exchange Online 35); base64 adds a third: 18 MB of files.
    limits: ClassVar[SendLimits] = SendLimits(
        provider="Email", max_text_length=100_000, media=(MediaRule("file", ("*/*",), 18 * MB),)
    )
    settings_model = EmailSettings
    credentials_model = EmailCredentials

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self.settings = EmailSettings.model_validate(dict(config.settings))
        self.credentials = EmailCredentials.model_validate(dict(config.credentials))

    @classmethod
    def prepare(cls, credentials: Mapping[str, Any], settings: Mapping[str, Any]) -> PreparedChannel:
        creds = EmailCredentials.model_validate(dict(credentials))
        parsed = EmailSettings.model_validate(dict(settings))
        if parsed.auth == "password" and not creds.password:
            raise _invalid("credentials.password", "password authentication needs a password")
        if parsed.auth == "oauth2" and not (creds.oauth_refresh_token or creds.oauth_access_token):
            raise _invalid("credentials.oauth_refresh_token", "OAuth 2.0 needs a refresh token")
        if not parsed.message_id_salt:
            parsed = parsed.model_copy(update={"message_id_salt": secrets.token_hex(16)})
        return PreparedChannel(
            credentials=creds.model_dump(exclude_none=True), settings=parsed.model_dump(mode="json", exclude_none=True)
        )

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # An address is the same person whichever mailbox they write to.
        return "email"

    @classmethod
    def outbound_urls(cls, settings: Mapping[str, Any]) -> list[str]:
        # The mail servers are checked like callback URLs (netguard speaks URLs; only the host matters).
        parsed = EmailSettings.model_validate(dict(settings))
        urls = [f"https://{parsed.imap_host}:{parsed.imap_port}/", f"https://{parsed.smtp_host}:{parsed.smtp_port}/"]
        if parsed.oauth_token_url is not None:
            urls.append(str(parsed.oauth_token_url))
        return urls

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        raise WebhookRejected("email channels receive mail from their mailbox, not by webhook")

    def parse_webhook(self, body: bytes) -> list[InboundEvent]:
        raise PayloadInvalid("email channels receive mail from their mailbox, not by webhook")

    @property
    def username(self) -> str:
        return self.credentials.username or self.settings.from_address

    async def oauth_access_token(self) -> str | None:
        """A valid OAuth 2.0 access token when the channel uses OAuth, else None (raises DeliveryError)."""
        if self.settings.auth != "oauth2":
            return None
        return await oauth.access_token(self.http, self.config.id, self.settings, self.credentials)

    async def sasl_xoauth2(self) -> str | None:
        """The XOAUTH2 response for SMTP when the channel uses OAuth 2.0, else None."""
        token = await self.oauth_access_token()
        return oauth.xoauth2(self.username, token) if token is not None else None

    async def check_credentials(self) -> None:
        """Sign in to the IMAP server (refreshing the OAuth token first) and out again: used to clear
        needs-reauth after new credentials are saved (channels/reauth.py). Raises DeliveryError."""
        token = await self.oauth_access_token()
        box = ImapMailbox(
            host=self.settings.imap_host,
            port=self.settings.imap_port,
            security=self.settings.imap_security,
            mailbox=self.settings.mailbox,
            username=self.username,
            password=self.credentials.password if token is None else None,
            access_token=token,
        )
        try:
            await asyncio.to_thread(box.open)
        except MailboxLoginRefused as exc:
            reason = f"the IMAP server refused the login: {exc}"
            raise DeliveryError(reason, retryable=False, needs_reauth=True) from exc
        except Exception as exc:  # unreachable, TLS, folder missing…: not accepted either, say why
            raise DeliveryError(f"the IMAP server could not be used: {exc}", retryable=True) from exc
        finally:
            await asyncio.to_thread(box.close)

    @classmethod
    def receiver(cls) -> Callable[[Any, int], Coroutine[Any, Any, None]]:
        """What the workers run per active email channel: the mailbox reader (channels/email/poller.py)."""
        from helpline.channels.email.poller import read_mailbox_forever  # the poller needs the database layer

        return read_mailbox_forever

    def events_from_mail(self, raw: bytes, *, received_at: datetime | None = None) -> list[InboundEvent]:
        """One mail → [InboundMessage], or [DeliveryStatusChanged] for a delivery report about our mail."""
        mail = parse_mail(raw, allow_remote_images=False)
        if mail.bounce is not None:
            if mail.bounce.action == "delayed" or mail.bounce.status.startswith("4"):
                # A delay notice: the server keeps trying; the message is not failed (yet).
                return [] if mail.bounce.original_message_id else [self._message(mail, received_at)]
            if mail.bounce.original_message_id:
                return [
                    DeliveryStatusChanged(
                        provider_message_id=mail.bounce.original_message_id,
                        state="failed",
                        timestamp=mail.date,
                        error_code=mail.bounce.status or "bounce",
                        error_reason=mail.bounce.reason,
                    )
                ]
        return [self._message(mail, received_at)]

    def _message(self, mail: ParsedMail, received_at: datetime | None) -> InboundMessage:
        local, _, domain = self.settings.from_address.partition("@")
        tags = [
            address.split("@")[0].split("+", 1)[1]
            for address in mail.to + mail.cc
            if address.endswith("@" + domain) and address.startswith(local + "+")
        ]
        if mail.sender_address == self.settings.from_address.lower() and not mail.automated:
            # Our own address writing to us (a copy, a forward rule, a loop): never answered automatically.
            mail.automated = "sent from this mailbox's own address"
        refs = tuple(mail.thread_refs)
        files = tuple(InboundAttachment(f.filename, f.content_type, data=f.data) for f in mail.files)
        content: dict[str, Any] = {
            "email": {
                "message_id": mail.message_id,
                "subject": mail.subject,
                "from": mail.sender_address,
                "to": mail.to,
                "cc": mail.cc,
                "references": list(mail.references),
                "in_reply_to": mail.in_reply_to,
                "full_text": mail.text if mail.text != mail.new_text else None,
                "html": mail.html,
                "remote_images_blocked": mail.blocked_images,
                "inline": {f.content_id: f.filename for f in mail.files if f.content_id},
                **({"automated": mail.automated} if mail.automated else {}),
                **({"errors": mail.errors} if mail.errors else {}),
            }
        }
        if mail.bounce is not None:
            content["email"]["delivery_report"] = {"status": mail.bounce.status, "reason": mail.bounce.reason}
        text = mail.new_text or (f"({mail.subject})" if mail.subject else None)
        return InboundMessage(
            contact=InboundContact(
                provider_id=mail.sender_address or "unknown@invalid", name=mail.sender_name, email=mail.sender_address
            ),
            provider_message_id=mail.message_id,
            text=text,
            timestamp=mail.date or received_at or datetime.now(UTC),
            content_type="attachment" if files and not text else "text",
            content=content,
            attachments=files,
            thread_refs=refs,
            conversation_ref=mail.conversation_token(tags),
            starts_thread=not refs,
            automated=mail.automated is not None or mail.bounce is not None,
        )

    async def send(self, message: OutboundMessage) -> SentReceipt:
        mail = build_mail(self.settings, message)
        provider_id = message_id_for(self.settings, message)

        async def deliver() -> SentReceipt:
            password = self.credentials.password if self.settings.auth == "password" else None
            try:
                await send_mail(
                    mail,
                    host=self.settings.smtp_host,
                    port=self.settings.smtp_port,
                    security=self.settings.smtp_security,
                    username=self.username,
                    password=password,
                    xoauth2=await self.sasl_xoauth2(),
                )
            except DeliveryError as exc:
                if exc.needs_reauth:
                    oauth.forget(self.config.id)
                raise
            return SentReceipt(provider_message_id=provider_id)

        # One SMTP transaction carries text, HTML and files: recorded as one part, never sent twice.
        receipt = await message.send_part("mail", deliver)
        # The reply keeps what the customer's mail client shows: its subject ("Re: …") and threading headers.
        return SentReceipt(provider_message_id=receipt.provider_message_id, content={"email": sent_headers(mail)})

    async def fetch_attachment(self, source_url: str, max_bytes: int) -> tuple[bytes, str]:
        raise DeliveryError("email attachments arrive inside the mail", retryable=False, code="not_supported")


def _invalid(where: str, message: str) -> Exception:
    detail = InitErrorDetails(type=PydanticCustomError("value_error", message), loc=tuple(where.split(".")), input=None)
    return ValidationError.from_exception_data("EmailChannel", [detail])
