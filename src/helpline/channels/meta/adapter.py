"""The part of the three Meta adapters that is the same: configuration, webhook verification, routing, CDN files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from helpline.channels.base import ChannelConfig, InboundEvent, PreparedChannel
from helpline.channels.meta.graph import GraphClient
from helpline.channels.meta.webhook import Routed, load_envelope, verify_signature
from helpline.platform.http import download_limited


class MetaAdapter:
    """Subclasses set `kind`, `window`, the settings models, `route` and `parse_entry`, and implement `send`."""

    kind: ClassVar[str]
    settings_model: ClassVar[type[BaseModel]]
    credentials_model: ClassVar[type[BaseModel]]

    def __init__(self, config: ChannelConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http
        self.graph = GraphClient.for_channel(config, http)

    @classmethod
    def prepare(cls, credentials: Mapping[str, Any], settings: Mapping[str, Any]) -> PreparedChannel:
        creds = cls.credentials_model.model_validate(dict(credentials))
        parsed = cls.settings_model.model_validate(dict(settings))
        return PreparedChannel(
            credentials=creds.model_dump(mode="json"), settings=parsed.model_dump(mode="json", exclude_none=True)
        )

    @classmethod
    def outbound_urls(cls, settings: Mapping[str, Any]) -> list[str]:
        url = settings.get("graph_url")
        return [str(url)] if url else []

    @classmethod
    def route(cls, payload: Mapping[str, Any]) -> list[Routed]:
        """Split a webhook into the parts for each channel (pure)."""
        raise NotImplementedError

    def parse_entry(self, entry: dict[str, Any]) -> list[InboundEvent]:
        raise NotImplementedError

    def owns(self, routed: Routed) -> bool:
        return str(self.config.settings.get(routed.setting) or "") == routed.value

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        verify_signature(str(self.config.platform.get("meta_app_secret") or ""), headers, body)

    def parse_webhook(self, body: bytes) -> list[InboundEvent]:
        """This channel's events of a webhook; /webhooks/meta routes by `route` and calls `parse_entry` itself."""
        events: list[InboundEvent] = []
        for routed in self.route(load_envelope(body)):
            if self.owns(routed):
                events.extend(self.parse_entry(routed.entry))
        return events

    # The channel setting naming the asset the token must reach (phone_number_id, page_id, ig_account_id).
    asset_setting: ClassVar[str] = "phone_number_id"

    async def check_credentials(self) -> None:
        """GET /{asset-id}?fields=id with the channel's token: Graph answers 190/401 for a dead token and 10/200
        for one without access to this asset (raised as DeliveryError by GraphClient)."""
        asset = str(self.config.settings.get(self.asset_setting) or "")
        await self.graph.call("GET", asset, params={"fields": "id"})

    async def fetch_attachment(self, source_url: str, max_bytes: int) -> tuple[bytes, str]:
        # Messenger / Instagram CDN URLs are pre-signed: sending the Page token there would only leak it.
        return await download_limited(self.http, source_url, max_bytes=max_bytes)
