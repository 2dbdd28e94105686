"""`helpline meta doctor`: check what Meta's App Review and a live webhook need, with the fix for each failure."""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from helpline.settings import Settings

if TYPE_CHECKING:
    from helpline.channels.models import Channel
    from helpline.platform.crypto import SecretBox

META_KINDS = ("whatsapp", "messenger", "instagram")

# Scopes each kind needs (provider-contracts §5). Instagram accepts either login flavour's set.
REQUIRED_SCOPES: dict[str, list[set[str]]] = {
    "whatsapp": [{"whatsapp_business_messaging", "whatsapp_business_management"}],
    "messenger": [{"pages_messaging", "pages_manage_metadata"}],
    "instagram": [
        {"instagram_business_basic", "instagram_business_manage_messages"},  # Instagram Login
        {"instagram_basic", "instagram_manage_messages", "pages_manage_metadata"},  # Facebook Login
    ],
}
TOKEN_KEYS = ("access_token", "token", "page_access_token")
ASSET_KEYS = {
    # Where the webhook subscription lives: the WABA for WhatsApp, the Page / IG account otherwise.
    "whatsapp": ("waba_id", "business_account_id", "whatsapp_business_account_id"),
    "messenger": ("page_id",),
    "instagram": ("page_id", "instagram_account_id", "ig_account_id", "ig_user_id", "account_id"),
}
EXPIRY_WARNING_SECONDS = 7 * 86400
# Stable ids for each check (the API's `id`; the names are the wording shown to people).
CHECK_IDS = {
    "HELPLINE_BASE_URL is public HTTPS": "base_url",
    "HELPLINE_META_APP_SECRET is set": "app_secret",
    "HELPLINE_META_VERIFY_TOKEN is set": "verify_token",
    "Privacy policy is served": "privacy_policy",
    "Data deletion callback is served": "data_deletion_callback",
    "Webhook callback answers Meta's verification": "webhook_verification",
    "Meta channels": "meta_channels",
    "Access token": "access_token",
    "Token is valid": "token_valid",
    "Permissions granted": "permissions",
    "Webhook subscription": "webhook_subscription",
}


@dataclass(frozen=True)
class MetaTarget:
    """One Meta channel, with its credentials decrypted."""

    channel_id: int
    name: str
    kind: str
    credentials: Mapping[str, Any]
    settings: Mapping[str, Any]

    def value(self, keys: Sequence[str]) -> str | None:
        for key in keys:
            for source in (self.settings, self.credentials):
                if source.get(key):
                    return str(source[key])
        return None


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str = ""
    fix: str = ""
    channel: str | None = None

    @property
    def id(self) -> str:
        return CHECK_IDS.get(self.name) or re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


def _ok(name: str, detail: str = "", channel: str | None = None) -> Check:
    return Check(name, "ok", detail, channel=channel)


def _fail(name: str, detail: str, fix: str, channel: str | None = None) -> Check:
    return Check(name, "fail", detail, fix, channel)


# ---------------------------------------------------------------- Helpline's own public surface


def check_base_url(base_url: str) -> Check:
    name = "HELPLINE_BASE_URL is public HTTPS"
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    fix = (
        "Set HELPLINE_BASE_URL to the public https:// address of this server (behind a reverse proxy with a valid "
        "certificate); Meta only calls HTTPS callback URLs it can reach from the internet."
    )
    if parts.scheme != "https":
        return _fail(name, f"{base_url} is not https", fix)
    try:
        address = ipaddress.ip_address(host)
        private = not address.is_global
    except ValueError:
        private = host == "localhost" or host.endswith((".local", ".localhost", ".internal", ".lan", ".test"))
    if private:
        return _fail(name, f"{host} is not a public host name", fix)
    return _ok(name, base_url)


def check_settings(settings: Settings) -> list[Check]:
    checks = []
    if settings.meta_app_secret:
        checks.append(_ok("HELPLINE_META_APP_SECRET is set"))
    else:
        checks.append(
            _fail(
                "HELPLINE_META_APP_SECRET is set",
                "missing: webhook signatures and data-deletion requests cannot be verified",
                "Copy the App Secret from App Dashboard → App settings → Basic into HELPLINE_META_APP_SECRET.",
            )
        )
    if settings.meta_verify_token:
        checks.append(_ok("HELPLINE_META_VERIFY_TOKEN is set"))
    else:
        checks.append(
            _fail(
                "HELPLINE_META_VERIFY_TOKEN is set",
                "missing: Meta's webhook verification GET cannot succeed",
                "Choose a random string, set it as HELPLINE_META_VERIFY_TOKEN and type the same in the Webhooks "
                "product's 'Verify token' field.",
            )
        )
    return checks


async def check_public_pages(settings: Settings, http: httpx.AsyncClient) -> list[Check]:
    """The URLs App Review opens: privacy policy, data-deletion callback, and the webhook verification."""
    base = settings.base_url
    checks = []
    try:
        privacy = await http.get(f"{base}/privacy")
        good = privacy.status_code == 200 and privacy.headers.get("content-type", "").startswith("text/html")
        checks.append(
            _ok("Privacy policy is served", f"{base}/privacy")
            if good
            else _fail(
                "Privacy policy is served",
                f"GET {base}/privacy answered {privacy.status_code}",
                "Make /privacy reachable (set HELPLINE_PRIVACY_POLICY_FILE for your own text) and enter "
                f"{base}/privacy as the Privacy Policy URL in App settings → Basic.",
            )
        )
    except httpx.HTTPError as exc:
        checks.append(_unreachable("Privacy policy is served", f"{base}/privacy", exc))
    try:
        # A bogus signed_request must be refused: proves the callback exists and verifies signatures.
        probe = await http.post(f"{base}/meta/data-deletion", data={"signed_request": "doctor.probe"})
        good = probe.status_code in (400, 403)
        checks.append(
            _ok("Data deletion callback is served", f"{base}/meta/data-deletion")
            if good
            else _fail(
                "Data deletion callback is served",
                f"POST {base}/meta/data-deletion answered {probe.status_code}",
                f"Enter {base}/meta/data-deletion as the Data Deletion Request URL in App settings → Basic, and "
                "make sure HELPLINE_META_APP_SECRET is set (503 means it is not).",
            )
        )
    except httpx.HTTPError as exc:
        checks.append(_unreachable("Data deletion callback is served", f"{base}/meta/data-deletion", exc))
    if settings.meta_verify_token:
        checks.append(await _check_webhook_verification(settings, http))
    return checks


async def _check_webhook_verification(settings: Settings, http: httpx.AsyncClient) -> Check:
    name = "Webhook callback answers Meta's verification"
    url = f"{settings.base_url}/webhooks/meta"
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": settings.meta_verify_token}
    try:
        response = await http.get(url, params=params)
    except httpx.HTTPError as exc:
        return _unreachable(name, url, exc)
    if response.status_code == 200 and response.text.strip().strip('"') == "1158201444":
        return _ok(name, url)
    return _fail(
        name,
        f"GET {url}?hub.mode=subscribe… answered {response.status_code}",
        f"In the Webhooks product set the callback URL to {url} and the verify token to HELPLINE_META_VERIFY_TOKEN.",
    )


def _unreachable(name: str, url: str, exc: Exception) -> Check:
    return _fail(name, f"{url} is unreachable ({type(exc).__name__})", "Start Helpline and expose it at that URL.")


# ---------------------------------------------------------------- per channel, against the Graph API


async def check_channel(settings: Settings, target: MetaTarget, graph: httpx.AsyncClient) -> list[Check]:
    label = f"#{target.channel_id} {target.name} ({target.kind})"
    token = target.value(TOKEN_KEYS)
    if not token:
        return [_fail("Access token", "the channel has no access_token", "Add the system-user or Page token.", label)]
    root = f"{settings.meta_graph_url.rstrip('/')}/{settings.meta_graph_version}"
    # An app token (app_id|app_secret) can inspect any token; without the app id a token may inspect itself.
    inspector = f"{settings.meta_app_id}|{settings.meta_app_secret}" if settings.meta_app_id else token
    try:
        # The inspecting token goes in the Authorization header, never in the URL (URLs reach logs and proxies);
        # input_token is the parameter Graph's debug_token is defined by, and is redacted from every log line.
        response = await graph.get(
            f"{root}/debug_token", params={"input_token": token}, headers={"Authorization": f"Bearer {inspector}"}
        )
        data = response.json().get("data") or {}
    except (httpx.HTTPError, ValueError) as exc:
        return [
            _fail(
                "Token is valid", f"debug_token failed ({type(exc).__name__})", "Check HELPLINE_META_GRAPH_URL.", label
            )
        ]
    checks = [_token_check(data, label), *_scope_checks(target.kind, data, label)]
    checks.append(await _subscription_check(root, target, token, graph, label))
    return checks


def _token_check(data: Mapping[str, Any], label: str) -> Check:
    fix = (
        "Create a System User in Business Settings, assign the asset, generate a token that never expires with the "
        "needed permissions, and update the channel's access_token."
    )
    if not data.get("is_valid"):
        reason = (data.get("error") or {}).get("message", "invalid")
        return _fail("Token is valid", str(reason), fix, label)
    expires_at = int(data.get("expires_at") or 0)
    kind = data.get("type", "?")
    if not expires_at:
        return _ok("Token is valid", f"type {kind}, never expires", label)
    left = expires_at - time.time()
    detail = f"type {kind}, expires in {max(left, 0) / 86400:.1f} days"
    if left < EXPIRY_WARNING_SECONDS:
        return Check("Token is valid", "warn", detail, fix, label)
    return _ok("Token is valid", detail, label)


def _scope_checks(kind: str, data: Mapping[str, Any], label: str) -> list[Check]:
    granted = set(data.get("scopes") or [])
    options = REQUIRED_SCOPES.get(kind, [])
    if not options:
        return []
    best = min(options, key=lambda needed: len(needed - granted))
    missing = sorted(best - granted)
    if not missing:
        return [_ok("Permissions granted", ", ".join(sorted(best)), label)]
    return [
        _fail(
            "Permissions granted",
            "missing " + ", ".join(missing),
            "Request these permissions in App Review (with a screencast each) and regenerate the token with them: "
            + ", ".join(missing),
            label,
        )
    ]


async def _subscription_check(root: str, target: MetaTarget, token: str, graph: httpx.AsyncClient, label: str) -> Check:
    name = "Webhook subscription"
    asset = target.value(ASSET_KEYS.get(target.kind, ()))
    if not asset:
        return _fail(name, "the channel has no asset id", f"Set one of {', '.join(ASSET_KEYS[target.kind])}.", label)
    fix = (
        f"Subscribe the app: POST {root}/{asset}/subscribed_apps"
        + (
            ""
            if target.kind == "whatsapp"
            else "?subscribed_fields=messages,message_echoes,message_deliveries,message_reads,messaging_postbacks"
        )
        + " with the channel's token (Meta also unsubscribes apps whose webhook failed for an hour)."
    )
    try:
        response = await graph.get(f"{root}/{asset}/subscribed_apps", headers={"Authorization": f"Bearer {token}"})
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return _fail(name, f"subscribed_apps failed ({type(exc).__name__})", fix, label)
    if response.status_code != 200:
        return _fail(name, str((body.get("error") or {}).get("message", response.status_code)), fix, label)
    apps = body.get("data") or []
    if not apps:
        return _fail(name, f"no app is subscribed to {asset}", fix, label)
    fields = apps[0].get("subscribed_fields")
    if fields is not None and "messages" not in fields:
        return _fail(name, f"subscribed without 'messages' ({', '.join(fields)})", fix, label)
    return _ok(name, f"{asset}" + (f": {', '.join(fields)}" if fields else ""), label)


async def run_doctor(
    settings: Settings,
    targets: Sequence[MetaTarget],
    *,
    graph: httpx.AsyncClient,
    app: httpx.AsyncClient,
) -> list[Check]:
    """`graph` reaches HELPLINE_META_GRAPH_URL, `app` reaches HELPLINE_BASE_URL (tests pass ASGI transports)."""
    checks = [check_base_url(settings.base_url), *check_settings(settings), *await check_public_pages(settings, app)]
    if not targets:
        checks.append(
            Check(
                "Meta channels",
                "warn",
                "no WhatsApp, Messenger or Instagram channel is configured",
                "Add one: helpline channels add whatsapp|messenger|instagram …",
            )
        )
    for target in targets:
        checks.extend(await check_channel(settings, target, graph))
    return checks


def render(checks: Sequence[Check]) -> str:
    marks = {"ok": "[ OK ]", "warn": "[WARN]", "fail": "[FAIL]"}
    lines = []
    for check in checks:
        where = f"{check.channel}: " if check.channel else ""
        lines.append(f"{marks[check.status]} {where}{check.name}" + (f" — {check.detail}" if check.detail else ""))
        if check.status != "ok" and check.fix:
            lines.append(f"       fix: {check.fix}")
    failed = sum(c.status == "fail" for c in checks)
    lines.append(f"\n{len(checks) - failed} of {len(checks)} checks passed" + (f", {failed} failed" if failed else ""))
    return "\n".join(lines)


async def load_targets(settings: Settings, channel_id: int | None = None) -> list[MetaTarget]:
    """Meta channels from the database (one, with --channel), credentials decrypted."""
    from sqlalchemy import select

    from helpline.channels.models import Channel
    from helpline.platform.crypto import SecretBox
    from helpline.platform.db import Database

    database = Database(settings.database_url)
    box = SecretBox(settings.secret_key)
    try:
        async with database.sessions() as session:
            query = select(Channel).where(Channel.kind.in_(META_KINDS)).order_by(Channel.id)
            if channel_id is not None:
                query = select(Channel).where(Channel.id == channel_id)
            channels = (await session.execute(query)).scalars().all()
    finally:
        await database.dispose()
    return [target_for(channel, box) for channel in channels]


def target_for(channel: Channel, box: SecretBox) -> MetaTarget:
    """A channel row as a doctor target, its credentials decrypted with `box`."""
    from helpline.channels.actions import channel_config

    config = channel_config(channel, box)
    return MetaTarget(channel.id, channel.name, channel.kind, config.credentials, config.settings)
