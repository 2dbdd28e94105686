"""A thin Graph API client: versioned URLs, `Authorization: Bearer`, Meta's errors turned into DeliveryError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from helpline.channels.base import ChannelConfig, DeliveryError
from helpline.channels.meta.errors import error_from_response
from helpline.platform.netguard import UnsafeTarget

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"


class GraphClient:
    def __init__(self, http: httpx.AsyncClient, *, base_url: str, version: str, token: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.token = token

    @classmethod
    def for_channel(cls, config: ChannelConfig, http: httpx.AsyncClient) -> GraphClient:
        """Per-channel `graph_url` (e.g. graph.instagram.com for Instagram Login) wins over the process setting."""
        base = str(config.settings.get("graph_url") or config.platform.get("meta_graph_url") or DEFAULT_GRAPH_URL)
        version = str(config.platform.get("meta_graph_version") or DEFAULT_GRAPH_VERSION)
        return cls(http, base_url=base, version=version, token=str(config.credentials.get("access_token") or ""))

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One Graph request; the JSON object it answered, or DeliveryError (retryable or not)."""
        if not self.token:
            raise DeliveryError(
                "the channel has no access_token: add one in the channel's credentials",
                retryable=False,
                code="no_token",
                needs_reauth=True,
            )
        try:
            response = await self.http.request(
                method,
                self.url(path),
                json=json,
                data=data,
                files=files,
                params=params,
                headers=self.auth,
            )
        except UnsafeTarget as exc:
            raise DeliveryError(exc.message, retryable=False, code="unsafe_target") from exc
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"Graph API timed out: {exc}", retryable=True, code="timeout") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"Graph API request failed: {exc}", retryable=True, code="network") from exc
        if not response.is_success:
            raise error_from_response(response)
        try:
            body = response.json()
        except ValueError:
            raise DeliveryError(
                f"Graph API answered HTTP {response.status_code} without JSON", retryable=True, code="bad_response"
            ) from None
        if not isinstance(body, dict):
            raise DeliveryError("Graph API answered an unexpected JSON value", retryable=True, code="bad_response")
        return body
