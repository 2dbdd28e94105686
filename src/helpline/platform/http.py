"""The outbound HTTP client: SSRF-guarded on every request and redirect, with bounded downloads."""

from __future__ import annotations

import httpx

from helpline.platform.errors import TooLarge
from helpline.platform.netguard import check_target


def guarded_client(
    *, allow_private: bool, timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """An HTTP client that checks every request it sends, redirects included, against the SSRF rules.

    The check resolves the host just before httpx connects; a DNS answer that changes between the two
    (rebinding) is a residual risk that an egress proxy closes in deployments that need it.
    """

    async def _check(request: httpx.Request) -> None:
        await check_target(str(request.url), allow_private=allow_private)

    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=5,
        event_hooks={"request": [_check]},
        headers={"User-Agent": "Helpline/0.1"},
        transport=transport,
    )


async def download_limited(
    http: httpx.AsyncClient, url: str, *, max_bytes: int, headers: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """GET a file, refusing it as soon as it grows past max_bytes. Returns (bytes, content type)."""
    async with http.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        declared = response.headers.get("content-length")
        if declared and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"remote file is {declared} bytes; the limit is {max_bytes}")
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > max_bytes:
                raise TooLarge(f"remote file is larger than the limit of {max_bytes} bytes")
            chunks.append(chunk)
        content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
    return b"".join(chunks), content_type
