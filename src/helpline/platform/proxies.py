"""The client's address: X-Forwarded-For is believed only from a configured trusted proxy.

Anyone can send `X-Forwarded-For`; if every peer were believed, a client could pick the address the login
limits and the audit log see. Only when the connecting peer is in HELPLINE_TRUSTED_PROXIES are the forwarded
headers read, and then right to left, skipping our own trusted proxies: the first untrusted hop is the client
(the left-most entries are whatever the client claimed). MDN "X-Forwarded-For: Selecting an IP address".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(item, strict=False) for item in items]


def in_networks(address: str | None, networks: list[Network]) -> bool:
    """True when `address` (an IP, possibly with an IPv6 zone) is inside one of `networks`; False for junk."""
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def client_from_forwarded(peer: str, forwarded_for: str, trusted: list[Network]) -> str:
    """The client address given the peer and the X-Forwarded-For value (comma-separated, client first)."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        if not in_networks(address, trusted):
            break
        try:
            ipaddress.ip_address(hop.split("%", 1)[0])
        except ValueError:
            break  # a garbled entry: stop at the last hop we could trust
        address = hop
    return address


class TrustedProxyMiddleware:
    """Rewrite scope["client"] (and scheme) from X-Forwarded-For / X-Forwarded-Proto when the peer is trusted."""

    def __init__(self, app: ASGIApp, trusted: list[str]) -> None:
        self.app = app
        self.trusted = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            peer = client[0] if client else None
            if peer is not None and in_networks(peer, self.trusted):
                headers = dict(scope.get("headers") or [])
                forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
                if forwarded:
                    scope = dict(scope)
                    scope["client"] = (client_from_forwarded(peer, forwarded, self.trusted), 0)
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope = dict(scope)
                    websocket = scope["type"] == "websocket"
                    scope["scheme"] = ("wss" if proto == "https" else "ws") if websocket else proto
        await self.app(scope, receive, send)
