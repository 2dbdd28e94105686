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


def is_forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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
