"""Adapter for the website widget: replies are handed to the visitor's session, not to a remote provider.

There is no provider between Helpline and the visitor. A reply is stored before it is sent (so it is in the
session's history), and accepting it here moves it to `sent`: that change is the realtime frame the visitor's
socket turns into a message (channels/widget/live.py). Visitors' messages do not come as webhooks; the
visitor API builds the inbound events itself (`visitor_message`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

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
from helpline.channels.limits import SendLimits
from helpline.channels.widget.identity import VisitorSession
from helpline.channels.widget.settings import WidgetCredentials, WidgetSettings
from helpline.platform.clock import utcnow
from helpline.platform.crypto import new_secret

KIND = "widget"


def provider_message_id(message_id: int) -> str:
    return f"widget-{message_id}"


class WidgetAdapter:
    kind: ClassVar[str] = KIND
    # The visitor can be answered at any time (later replies wait in the history).
    window: ClassVar[ReplyWindow | None] = None
    limits: ClassVar[SendLimits] = SendLimits(provider="The website widget", max_text_length=20_000)
    settings_model = WidgetSettings
    credentials_model = WidgetCredentials

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self.settings = WidgetSettings.model_validate(dict(config.settings))

    @classmethod
    def prepare(cls, credentials: Mapping[str, Any], settings: Mapping[str, Any]) -> PreparedChannel:
        creds = WidgetCredentials.model_validate(dict(credentials))
        parsed = WidgetSettings.model_validate(dict(settings))
        secret = creds.identity_secret or new_secret()
        return PreparedChannel(
            credentials={"identity_secret": secret},
            settings=parsed.model_dump(mode="json"),
            reveal={"identity_secret": secret} if not creds.identity_secret else {},
        )

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # Visitor ids (and the website's user ids) only mean something within one widget.
        return f"widget:{channel_id}"

    @classmethod
    def outbound_urls(cls, settings: Mapping[str, Any]) -> list[str]:
        return []

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        raise WebhookRejected("the website widget takes visitors' messages at /api/v1/widget, not as webhooks")

    def parse_webhook(self, body: bytes) -> list[InboundEvent]:
        raise PayloadInvalid("the website widget has no webhooks")

    async def send(self, message: OutboundMessage) -> SentReceipt:
        if not message.recipient_id:
            raise DeliveryError("the visitor's session is unknown", retryable=False, code="no_session")
        if not (message.text or "").strip() and not message.attachments:
            raise DeliveryError("an empty reply cannot be shown", retryable=False, code="empty")
        return SentReceipt(provider_message_id=provider_message_id(message.message_id), timestamp=utcnow())

    async def fetch_attachment(self, source_url: str, max_bytes: int) -> tuple[bytes, str]:
        raise DeliveryError("widget uploads arrive with their bytes; nothing to fetch", retryable=False)


def visitor_message(
    session: VisitorSession,
    *,
    client_id: str,
    text: str | None,
    attachments: tuple[InboundAttachment, ...] = (),
    content: dict[str, Any] | None = None,
) -> InboundMessage:
    """The inbound event for one visitor message; `client_id` (the browser's own id for it) makes a retried
    POST the same message, like a provider's message id."""
    return InboundMessage(
        contact=InboundContact(provider_id=session.provider_id, name=session.name, email=session.email),
        provider_message_id=f"visitor-{session.session_id}-{client_id}",
        text=text,
        timestamp=utcnow(),
        content_type="attachment" if attachments and not text else "text",
        content=content or {},
        attachments=attachments,
    )
