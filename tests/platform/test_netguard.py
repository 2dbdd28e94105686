"""The SSRF guard: which addresses are forbidden, target checks, and the guarded client's redirects."""

from __future__ import annotations

import httpx
import pytest

from helpline.platform.http import guarded_client
from helpline.platform.netguard import UnsafeTarget, check_target, is_forbidden_address

PUBLIC_V4 = "93.184.216.34"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "fc00::1",
        "fd12:3456::1",
        "169.254.1.1",
        "169.254.169.254",
        "fe80::1",
        "fe80::1%eth0",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "::",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_internal_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_address(address)


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "https://[::ffff:127.0.0.1]:8443/x",
        "http://192.168.0.10:8080/hook",
    ],
)
async def test_check_target_refuses_internal_targets(url: str) -> None:
    with pytest.raises(UnsafeTarget) as caught:
        await check_target(url, allow_private=False)
    assert caught.value.code == "unsafe_target"
    assert caught.value.status_code == 422


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost:9000/x", "http://10.0.0.5/x"])
async def test_check_target_allows_internal_targets_when_configured(url: str) -> None:
    await check_target(url, allow_private=True)


async def test_check_target_allows_public_targets() -> None:
    await check_target(f"https://{PUBLIC_V4}/hook", allow_private=False)
    await check_target("http://[2606:4700:4700::1111]/hook", allow_private=False)


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/x", "file:///etc/passwd", "/relative/path", "http://user:pw@93.184.216.34/x"]
)
@pytest.mark.parametrize("allow_private", [True, False])
async def test_check_target_refuses_bad_urls_even_when_private_is_allowed(url: str, allow_private: bool) -> None:
    with pytest.raises(UnsafeTarget):
        await check_target(url, allow_private=allow_private)


def _mock_peer(seen: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == PUBLIC_V4:
            return httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})
        return httpx.Response(200, text="internal secrets")

    return httpx.MockTransport(handler)


async def _guarded_with_transport(transport: httpx.MockTransport, *, allow_private: bool) -> httpx.AsyncClient:
    return guarded_client(allow_private=allow_private, timeout=5, transport=transport)


async def test_guarded_client_refuses_a_redirect_to_a_private_address() -> None:
    seen: list[str] = []
    client = await _guarded_with_transport(_mock_peer(seen), allow_private=False)
    async with client:
        with pytest.raises(UnsafeTarget):
            await client.get(f"http://{PUBLIC_V4}/start")
    # The public hop was made; the internal one was refused before anything was sent to it.
    assert seen == [f"http://{PUBLIC_V4}/start"]


async def test_guarded_client_refuses_a_private_target_up_front() -> None:
    seen: list[str] = []
    client = await _guarded_with_transport(_mock_peer(seen), allow_private=False)
    async with client:
        with pytest.raises(UnsafeTarget):
            await client.post("http://10.0.0.5/hook", content=b"{}")
    assert seen == []


async def test_guarded_client_follows_the_redirect_when_private_is_allowed() -> None:
    seen: list[str] = []
    client = await _guarded_with_transport(_mock_peer(seen), allow_private=True)
    async with client:
        response = await client.get(f"http://{PUBLIC_V4}/start")
    assert response.status_code == 200
    assert seen == [f"http://{PUBLIC_V4}/start", "http://127.0.0.1/admin"]


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:5::1",  # 6to4 of 10.0.0.5
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254 (cloud metadata)
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::c0a8:1",  # local-use NAT64 of 192.168.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::127.0.0.1",  # IPv4-compatible loopback
        "::10.0.0.1",
    ],
)
def test_ipv6_forms_embedding_a_private_ipv4_are_forbidden(address: str) -> None:
    assert is_forbidden_address(address)


@pytest.mark.parametrize("address", ["2002:808:808::", "64:ff9b::808:808", "::8.8.8.8"])
def test_ipv6_forms_embedding_a_public_ipv4_are_judged_like_it(address: str) -> None:
    assert not is_forbidden_address(address)


@pytest.mark.parametrize("url", ["http://[2002:7f00:1::]/", "http://[64:ff9b::7f00:1]:8080/hook"])
async def test_check_target_refuses_6to4_and_nat64_urls_to_loopback(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        await check_target(url, allow_private=False)
