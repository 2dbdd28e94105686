"""Adapter for the generic API channel: HMAC-signed inbound JSON, signed callbacks with idempotency keys."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from helpline.channels.base import (
    ChannelConfig,
    DeliveryError,
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
from helpline.channels.generic.payloads import GenericCredentials, GenericSettings, InboundPayload
from helpline.channels.limits import SendLimits
from helpline.platform.crypto import new_secret, sign_header, verify_sha256_signature
from helpline.platform.http import download_limited
from helpline.platform.netguard import UnsafeTarget

SIGNATURE_HEADER = "X-Helpline-Signature"


def _readable_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


class GenericApiAdapter:
    kind: ClassVar[str] = "api"
    window: ClassVar[ReplyWindow | None] = None
    # The receiving system sets no limits of its own; the server's upload limits apply.
    limits: ClassVar[SendLimits] = SendLimits(provider="The API channel", max_text_length=None)
    settings_model = GenericSettings
    credentials_model = GenericCredentials

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self.secret = str(config.credentials.get("secret", ""))
        self.settings = GenericSettings.model_validate(dict(config.settings))

    @classmethod
    def prepare(cls, credentials: Mapping[str, Any], settings: Mapping[str, Any]) -> PreparedChannel:
        creds = GenericCredentials.model_validate(dict(credentials))
        parsed = GenericSettings.model_validate(dict(settings))
        secret = creds.secret or new_secret()
        return PreparedChannel(
            credentials={"secret": secret},
            settings=parsed.model_dump(mode="json"),
            reveal={"secret": secret} if not creds.secret else {},
        )

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # Contact ids are only unique within the system behind one API channel.
        return f"api:{channel_id}"

    @classmethod
    def outbound_urls(cls, settings: Mapping[str, Any]) -> list[str]:
        url = settings.get("callback_url")
        return [str(url)] if url else []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        if not self.secret or not verify_sha256_signature(self.secret, body, headers.get(SIGNATURE_HEADER.lower())):
            raise WebhookRejected(f"missing or invalid {SIGNATURE_HEADER}")

    def parse_webhook(self, body: bytes) -> list[InboundEvent]:
        try:
            payload = InboundPayload.model_validate_json(body)
        except ValidationError as exc:
            raise PayloadInvalid(_readable_validation_error(exc)) from None
        attachments = []
        for item in payload.message.attachments:
            if item.data is not None:
                try:
                    data = base64.b64decode(item.data, validate=True)
                except (binascii.Error, ValueError):
                    raise PayloadInvalid(f"attachment {item.filename!r}: data is not valid base64") from None
                attachments.append(InboundAttachment(item.filename, item.content_type, data=data))
            else:
                attachments.append(InboundAttachment(item.filename, item.content_type, source_url=str(item.url)))
        contact = payload.contact
        return [
            InboundMessage(
                contact=InboundContact(
                    provider_id=contact.id,
                    name=contact.name,
                    email=contact.email,
                    phone=contact.phone,
                    avatar_url=contact.avatar_url,
                ),
                provider_message_id=payload.message.id,
                text=payload.message.text,
                timestamp=payload.message.timestamp,
                content_type="text" if not attachments else "attachment",
                attachments=tuple(attachments),
                reply_to_provider_id=payload.message.reply_to,
            )
        ]

    def outbound_body(self, message: OutboundMessage) -> bytes:
        outgoing: dict[str, Any] = {
            "id": message.message_id,
            "text": message.text,
            "author": {"kind": message.author_kind, "name": message.author_name},
            "reply_to": message.reply_to_provider_id,
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url}
                for a in message.attachments
            ],
        }
        quick_replies = message.content.get("quick_replies")
        if quick_replies:
            # Answers the message offers (the bot's menu): the receiving system may draw them as buttons.
            outgoing["quick_replies"] = [str(q) for q in quick_replies]
        body = {
            "channel_id": self.config.id,
            "conversation_id": message.conversation_id,
            "contact": {"id": message.recipient_id},
            "message": outgoing,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    async def send(self, message: OutboundMessage) -> SentReceipt:
        if not self.settings.callback_url:
            raise DeliveryError("this API channel has no callback URL configured", retryable=False, code="no_callback")
        body = self.outbound_body(message)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_header(self.secret, body),
            # The receiver deduplicates on this: a retry after a crash carries the same key.
            "Idempotency-Key": message.idempotency_key,
        }
        try:
            response = await self.http.post(str(self.settings.callback_url), content=body, headers=headers)
        except UnsafeTarget as exc:
            raise DeliveryError(exc.message, retryable=False, code="unsafe_target") from exc
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"callback timed out: {exc}", retryable=True, code="timeout") from exc
        except httpx.ConnectError as exc:
            if _refused(exc):  # nothing listens at the callback (it is down): said as such, not as "network"
                raise DeliveryError(
                    "callback refused the connection (nothing listens at its address, or it is down)",
                    retryable=True,
                    code="connection_refused",
                ) from exc
            raise DeliveryError(f"callback request failed: {exc}", retryable=True, code="network") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"callback request failed: {exc}", retryable=True, code="network") from exc
        if response.is_success:
            provider_id = None
            if response.headers.get("content-type", "").startswith("application/json"):
                try:
                    data = response.json()
                    provider_id = str(data["id"]) if isinstance(data, dict) and data.get("id") is not None else None
                except ValueError:
                    provider_id = None
            return SentReceipt(provider_message_id=provider_id)
        retryable = response.status_code >= 500 or response.status_code in (408, 409, 425, 429)
        raise DeliveryError(
            f"callback answered HTTP {response.status_code}: {response.text[:200]}",
            retryable=retryable,
            code=f"http_{response.status_code}",
        )

    async def fetch_attachment(self, source_url: str, max_bytes: int) -> tuple[bytes, str]:
        return await download_limited(self.http, source_url, max_bytes=max_bytes)


def _refused(exc: BaseException) -> bool:
    """Whether a connect error was the peer refusing the TCP connection (ECONNREFUSED somewhere in its causes)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "connection refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
