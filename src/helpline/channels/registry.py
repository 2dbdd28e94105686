"""Channel kind → adapter class; the only module that names concrete channels."""

from __future__ import annotations

import httpx

from helpline.channels.base import ChannelAdapter, ChannelConfig
from helpline.channels.email.adapter import EmailAdapter
from helpline.channels.generic.adapter import GenericApiAdapter
from helpline.channels.instagram.adapter import InstagramAdapter
from helpline.channels.messenger.adapter import MessengerAdapter
from helpline.channels.whatsapp.adapter import WhatsAppAdapter
from helpline.channels.widget.adapter import WidgetAdapter
from helpline.platform.errors import Invalid

ADAPTERS: dict[str, type[ChannelAdapter]] = {
    GenericApiAdapter.kind: GenericApiAdapter,  # type: ignore[dict-item]
    WhatsAppAdapter.kind: WhatsAppAdapter,  # type: ignore[dict-item]
    MessengerAdapter.kind: MessengerAdapter,  # type: ignore[dict-item]
    InstagramAdapter.kind: InstagramAdapter,  # type: ignore[dict-item]
    EmailAdapter.kind: EmailAdapter,  # type: ignore[dict-item]
    WidgetAdapter.kind: WidgetAdapter,  # type: ignore[dict-item]
}


def adapter_class(kind: str) -> type[ChannelAdapter]:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise Invalid(f"unknown channel kind {kind!r}; known: {', '.join(sorted(ADAPTERS))}") from None


def build_adapter(config: ChannelConfig, http: httpx.AsyncClient) -> ChannelAdapter:
    return adapter_class(config.kind)(config, http)
