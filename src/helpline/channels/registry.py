"""Channel kind → adapter class; the only module that names concrete channels."""

from __future__ import annotations

import httpx

from helpline.channels.base import ChannelAdapter, ChannelConfig
from helpline.channels.generic.adapter import GenericApiAdapter
from helpline.platform.errors import Invalid

ADAPTERS: dict[str, type[ChannelAdapter]] = {
    GenericApiAdapter.kind: GenericApiAdapter,  # type: ignore[dict-item]
}


def adapter_class(kind: str) -> type[ChannelAdapter]:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise Invalid(f"unknown channel kind {kind!r}; known: {', '.join(sorted(ADAPTERS))}") from None


def build_adapter(config: ChannelConfig, http: httpx.AsyncClient) -> ChannelAdapter:
    return adapter_class(config.kind)(config, http)
