"""Who may scrape /metrics: a bearer token (HELPLINE_METRICS_TOKEN) and/or an address allow-list
(HELPLINE_METRICS_ALLOW); with neither set, the endpoint is open, as Prometheus exporters usually are."""

from __future__ import annotations

import hmac

from starlette.requests import HTTPConnection

from helpline.platform.errors import Forbidden, Unauthorized
from helpline.platform.proxies import in_networks, parse_networks
from helpline.settings import Settings


def check_metrics_access(connection: HTTPConnection, settings: Settings) -> None:
    """Pass when nothing is configured, or when the request satisfies one configured rule: the client address
    (after trusted-proxy resolution) is in the allow-list, or it sends `Authorization: Bearer <metrics token>`.
    Raises Unauthorized (401, with a token configured) or Forbidden (403, allow-list only)."""
    token, allow = settings.metrics_token, settings.metrics_allow
    if not token and not allow:
        return
    client = connection.client.host if connection.client else None
    if allow and in_networks(client, parse_networks(allow)):
        return
    if token:
        scheme, _, given = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
        raise Unauthorized("send Authorization: Bearer <HELPLINE_METRICS_TOKEN> to read the metrics")
    raise Forbidden("this address may not read the metrics (HELPLINE_METRICS_ALLOW)")
