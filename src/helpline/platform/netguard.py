"""SSRF guard: refuse outbound targets that resolve to loopback, private, link-local or metadata addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from helpline.platform.errors import Invalid

# Cloud metadata endpoints that are not covered by the private/link-local ranges.
_METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeTarget(Invalid):
    code = "unsafe_target"


# IPv6 prefixes whose last 32 bits are an IPv4 address a gateway forwards to: NAT64 well-known prefix
# (RFC 6052) and local-use prefix (RFC 8215), and the deprecated IPv4-compatible form (RFC 4291 §2.5.5.1).
_NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address routes to: IPv4-mapped (::ffff:a.b.c.d), 6to4 (2002::/16, RFC 3056),
    Teredo (2001::/32, RFC 4380: server and client), NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and IPv4-compatible."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    last32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64_PREFIXES) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(last32)
    return found


def is_forbidden_address(address: str) -> bool:
    """True for loopback, private, link-local, multicast, reserved, metadata and other non-global addresses, and
    for IPv6 forms that embed one of those IPv4 addresses (they are refused like the address they embed)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if any(_forbidden(v4) for v4 in embedded):
            return True
        if embedded and ip.teredo is None:
            # A translation of an IPv4 address is as safe as that address (the prefixes themselves are
            # "reserved" in the IANA registry, which would refuse every NAT64 target otherwise).
            return False
    return _forbidden(ip)


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip in _METADATA_ADDRESSES
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url_syntax(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget(f"{url!r} is not an absolute http(s) URL")
    if parts.username or parts.password:
        raise UnsafeTarget("URLs with embedded credentials are not allowed")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeTarget(f"cannot resolve {host!r}: {exc.strerror}") from exc
    return sorted({str(info[4][0]) for info in infos})


async def check_target(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeTarget unless every address the URL's host resolves to is public (or private is allowed)."""
    host, port = check_url_syntax(url)
    if allow_private:
        return
    for address in await resolve(host, port):
        if is_forbidden_address(address):
            raise UnsafeTarget(
                f"{host} resolves to {address}, a private or internal address; "
                "set HELPLINE_ALLOW_PRIVATE_TARGETS=true to allow local targets"
            )
