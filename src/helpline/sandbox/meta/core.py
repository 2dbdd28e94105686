"""MetaSandbox: the fake Meta's behaviour (tokens, limits, windows, media, templates) and its simulated customers."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx

from helpline.sandbox.meta import payloads
from helpline.sandbox.meta.errors import GraphError, expired_token, invalid_token, whatsapp_error
from helpline.sandbox.meta.state import (
    Call,
    Delivery,
    Injection,
    Media,
    Page,
    SandboxClock,
    Sent,
    Token,
    WhatsAppNumber,
)
from helpline.sandbox.meta.webhooks import WebhookSender

WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# Stand-in files whose first bytes are those of their type (Helpline checks declared types against the bytes).
SAMPLE_MEDIA = {
    "image": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00sandbox image\xff\xd9",
    "document": b"%PDF-1.4\n% sandbox document\n%%EOF\n",
    "audio": b"OggS\x00\x02" + b"\x00" * 20 + b"sandbox audio",
    "video": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom sandbox video",
    "sticker": b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00sandbox sticker",
}
MEDIA_URL_TTL = 300  # the lookaside URL lasts 5 minutes (provider-contracts §2.3)

WHATSAPP_SCOPES = ["whatsapp_business_messaging", "whatsapp_business_management", "business_management"]
MESSENGER_SCOPES = ["pages_messaging", "pages_manage_metadata", "pages_show_list", "pages_read_engagement"]
INSTAGRAM_SCOPES = ["instagram_basic", "instagram_manage_messages", "pages_manage_metadata", "pages_show_list"]

DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "hello_world",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Hello! We have an update for you. Reply to continue."}],
    },
    {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Order update"},
            {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."},
            {"type": "FOOTER", "text": "Segurozinho"},
        ],
    },
    {
        "name": "retomar_atendimento",
        "language": "pt_BR",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Olá {{1}}! Podemos continuar o seu atendimento?"}],
    },
    {
        "name": "summer_promo",
        "language": "en_US",
        "category": "MARKETING",
        "status": "PAUSED",
        "components": [{"type": "BODY", "text": "Summer deals are here!"}],
    },
]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


class MetaSandbox:
    """A local stand-in for graph.facebook.com plus the people writing to the business.

    Drive it from tests (`customer_says`, `advance_clock`, `inject_error`, `retry_last`) and serve it with
    `helpline.sandbox.meta.app.create_sandbox_app(sandbox)`.
    """

    def __init__(
        self,
        *,
        app_secret: str = "sandbox-app-secret",  # noqa: S107 - a fake's well-known default
        app_id: str = "900000000000001",
        app_name: str = "Helpline Sandbox",
        callback_url: str | None = None,
        http: httpx.AsyncClient | None = None,
        public_url: str | None = None,
        status_delay: float = 0.05,
        whatsapp_window_errors: str = "async",  # async: 200 then a failed status (Cloud API); sync: 400
        auto_read: bool = True,
        instagram_window_subcode: int = 2534022,
    ) -> None:
        self.app_secret = app_secret
        self.app_id = app_id
        self.app_name = app_name
        self.public_url = public_url
        self.status_delay = status_delay
        self.whatsapp_window_errors = whatsapp_window_errors
        self.auto_read = auto_read
        self.instagram_window_subcode = instagram_window_subcode
        self.clock = SandboxClock()
        self.webhooks = WebhookSender(app_secret=app_secret, callback_url=callback_url, http=http)
        self.tokens: dict[str, Token] = {}
        self.numbers: dict[str, WhatsAppNumber] = {}
        self.pages: dict[str, Page] = {}
        self.media: dict[str, Media] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, list[dict[str, Any]]] = {}
        self.subscriptions: dict[str, list[str]] = {}
        self.last_inbound: dict[tuple[str, str], datetime] = {}
        self.inbound_ids: set[str] = set()
        self.not_on_whatsapp: set[str] = set()
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.injections: list[Injection] = []
        self.rate_limits: dict[str, tuple[int, float]] = {}
        self._usage: dict[str, deque[float]] = {}
        self._names: dict[str, str] = {}
        # People whose profile Graph does not give out (e.g. the app lacks profile access): the look-up fails.
        self.withheld_profiles: set[str] = set()

    # ------------------------------------------------------------ set-up

    @property
    def callback_url(self) -> str | None:
        return self.webhooks.callback_url

    @callback_url.setter
    def callback_url(self, value: str | None) -> None:
        self.webhooks.callback_url = value

    def app_token(self) -> str:
        return f"{self.app_id}|{self.app_secret}"

    def add_token(self, value: str | None = None, **fields: Any) -> Token:
        token = Token(value=value or "EAAG" + secrets.token_urlsafe(40), issued_at=self.clock.timestamp(), **fields)
        self.tokens[token.value] = token
        return token

    def add_whatsapp_number(
        self,
        phone_number_id: str = "106540352242922",
        *,
        waba_id: str = "102290129340398",
        display_phone_number: str = "15550783881",
        token: str | None = None,
        scopes: list[str] | None = None,
    ) -> tuple[WhatsAppNumber, Token]:
        number = WhatsAppNumber(phone_number_id, waba_id, display_phone_number)
        self.numbers[phone_number_id] = number
        self.templates.setdefault(waba_id, [{**t, "id": str(10**15 + i)} for i, t in enumerate(DEFAULT_TEMPLATES)])
        granted = WHATSAPP_SCOPES if scopes is None else scopes
        tok = self.add_token(
            token,
            type="SYSTEM_USER",
            scopes=list(granted),
            target_ids=[waba_id, phone_number_id],
            granular={s: [waba_id] for s in granted if s.startswith("whatsapp")},
        )
        return number, tok

    def add_page(
        self,
        page_id: str,
        *,
        kind: str = "messenger",
        name: str = "Segurozinho",
        token: str | None = None,
        scopes: list[str] | None = None,
    ) -> tuple[Page, Token]:
        """A Facebook Page (kind messenger) or an Instagram professional account (kind instagram)."""
        page = Page(page_id, kind, name)
        self.pages[page_id] = page
        default = MESSENGER_SCOPES if kind == "messenger" else INSTAGRAM_SCOPES
        granted = default if scopes is None else scopes
        tok = self.add_token(token, type="PAGE", scopes=list(granted), target_ids=[page_id], me=page_id)
        return page, tok

    def set_rate_limit(self, token: str, calls: int, per_seconds: float = 60.0) -> None:
        self.rate_limits[token] = (calls, per_seconds)

    def inject_error(
        self,
        code: int,
        *,
        status: int | None = None,
        subcode: int | None = None,
        message: str | None = None,
        times: int = 1,
        path_contains: str | None = None,
        asynchronous: bool = False,
    ) -> Injection:
        """The next `times` Graph calls (whose path contains `path_contains`) fail with this code.
        `asynchronous` (WhatsApp sends): answer 200 and deliver a `failed` status webhook instead."""
        injection = Injection(
            code, status, subcode, message or f"(#{code}) Injected error", times, path_contains, asynchronous
        )
        self.injections.append(injection)
        return injection

    def advance_clock(self, delta: timedelta | float) -> None:
        self.clock.advance(delta)

    # ------------------------------------------------------------ checks used by the Graph app

    def authenticate(self, value: str | None) -> Token:
        if not value:
            raise GraphError(code=104, message="An access token is required to request this resource.", status=400)
        if value == self.app_token():
            return Token(value=value, type="APP", valid=True)
        token = self.tokens.get(value)
        if token is None or not token.valid:
            raise invalid_token(460 if token is not None else None)
        if token.expires_at and token.expires_at <= self.clock.timestamp():
            raise expired_token()
        return token

    def check_target(self, token: Token, *asset_ids: str) -> None:
        if token.type == "APP" or not token.target_ids:
            return
        if not set(asset_ids) & set(token.target_ids):
            raise GraphError(code=200, message="(#200) Permissions error", status=403)

    def check_rate(self, token: Token, kind: str) -> None:
        """Per-token limit on the sandbox clock: WhatsApp 130429, Messenger/IG 613, anything else 4."""
        limit = self.rate_limits.get(token.value)
        if limit is None:
            return
        calls, per = limit
        now = self.clock.now().timestamp()
        used = self._usage.setdefault(token.value, deque())
        while used and used[0] <= now - per:
            used.popleft()
        if len(used) >= calls:
            if kind == "whatsapp":
                raise whatsapp_error(
                    130429,
                    "Rate limit hit",
                    "Message failed to send because there were too many messages sent "
                    "from this phone number in a short period of time",
                    subcode=2494055,
                )
            if kind == "page":
                raise GraphError(code=613, message="(#613) Calls to this api have exceeded the rate limit.")
            raise GraphError(
                code=4, message="(#4) Application request limit reached", status=429, extra={"is_transient": True}
            )
        used.append(now)

    def take_injection(self, path: str) -> Injection | None:
        for injection in self.injections:
            if injection.times > 0 and (injection.path_contains is None or injection.path_contains in path):
                injection.times -= 1
                return injection
        return None

    def in_window(self, asset_id: str, user_id: str, window: timedelta = WINDOW) -> bool:
        last = self.last_inbound.get((asset_id, user_id))
        return last is not None and self.clock.now() - last <= window

    # ------------------------------------------------------------ media

    def add_media(self, data: bytes, mime_type: str, filename: str | None = None) -> Media:
        media = Media(
            id=str(secrets.randbelow(10**15) + 10**15),
            data=data,
            mime_type=mime_type,
            sha256=hashlib.sha256(data).hexdigest(),
            filename=filename,
        )
        self.media[media.id] = media
        return media

    def media_url(self, media_id: str, base: str) -> str:
        expires = self.clock.timestamp() + MEDIA_URL_TTL
        signature = self._sign(media_id, expires)
        return f"{base}/lookaside/whatsapp_business/attachments/?mid={media_id}&ext={expires}&hash={signature}"

    def check_media_url(self, media_id: str, expires: int, signature: str) -> bool:
        return expires >= self.clock.timestamp() and hmac.compare_digest(self._sign(media_id, expires), signature)

    def cdn_url(self, media_id: str, base: str | None = None) -> str:
        """Messenger/Instagram attachment URLs are pre-signed CDN links: no token needed to fetch them."""
        return f"{base or self.base_url}/cdn/{media_id}?oh={self._sign(media_id, 0)}"

    def _sign(self, media_id: str, expires: int) -> str:
        return hmac.new(self.app_secret.encode(), f"{media_id}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    @property
    def base_url(self) -> str:
        return (self.public_url or "http://meta-sandbox.invalid").rstrip("/")

    # ------------------------------------------------------------ simulated customers

    async def customer_says(
        self,
        asset_id: str,
        user_id: str,
        text: str | None = None,
        *,
        type: str = "text",
        name: str | None = None,
        at: datetime | None = None,
        media: tuple[bytes, str] | None = None,
        **fields: Any,
    ) -> str:
        """A customer writes to a WhatsApp number, a Page or an IG account; returns the provider message id.

        `at` backdates the message (its webhook timestamp and the window), `media` is (bytes, mime type) for
        media types, and `fields` override parts of the message body (e.g. context=…, referral=…)."""
        when = at or self.clock.now()
        if name:
            self._names[user_id] = name
        self.last_inbound[(asset_id, user_id)] = max(when, self.last_inbound.get((asset_id, user_id), when))
        if asset_id in self.numbers:
            return await self._whatsapp_inbound(self.numbers[asset_id], user_id, text, type, when, media, fields)
        if asset_id in self.pages:
            return await self._page_inbound(self.pages[asset_id], user_id, text, when, media, fields)
        raise KeyError(f"no WhatsApp number, Page or IG account {asset_id!r} in the sandbox")

    async def _whatsapp_inbound(
        self,
        number: WhatsAppNumber,
        wa_id: str,
        text: str | None,
        kind: str,
        when: datetime,
        media: tuple[bytes, str] | None,
        fields: dict[str, Any],
    ) -> str:
        media_id = self.add_media(*media).id if media else None
        if media_id is None and kind in ("image", "document", "audio", "video", "sticker"):
            mime = {
                "image": "image/jpeg",
                "document": "application/pdf",
                "audio": "audio/ogg",
                "video": "video/mp4",
                "sticker": "image/webp",
            }[kind]
            media_id = self.add_media(SAMPLE_MEDIA[kind], mime).id
        message_id = payloads.wamid()
        message = {
            "from": wa_id,
            "id": message_id,
            "timestamp": str(int(when.timestamp())),
            "type": kind,
            **payloads.whatsapp_message_body(kind, text=text, media_id=media_id),
            **fields,
        }
        if kind == "system":
            message["system"]["wa_id"] = wa_id
        self.inbound_ids.add(message_id)
        contact = {"profile": {"name": self._names.get(wa_id, "Sandbox Customer")}, "wa_id": wa_id}
        value = {"contacts": [contact], "messages": [message]}
        entry = payloads.whatsapp_envelope(number.waba_id, number.phone_number_id, number.display_phone_number, value)
        await self.webhooks.emit("whatsapp_business_account", [entry])
        return message_id

    async def _page_inbound(
        self,
        page: Page,
        user_id: str,
        text: str | None,
        when: datetime,
        media: tuple[bytes, str] | None,
        fields: dict[str, Any],
    ) -> str:
        message_id = payloads.mid()
        message: dict[str, Any] = {"mid": message_id}
        if text is not None:
            message["text"] = text
        if media:
            item = self.add_media(*media)
            kind = (
                item.mime_type.split("/")[0] if item.mime_type.split("/")[0] in ("image", "video", "audio") else "file"
            )
            message["attachments"] = [{"type": kind, "payload": {"url": self.cdn_url(item.id)}}]
        message.update(fields)
        self.inbound_ids.add(message_id)
        ms = int(when.timestamp() * 1000)
        event = payloads.messaging_event(user_id, page.id, ms, message=message)
        obj = "page" if page.kind == "messenger" else "instagram"
        await self.webhooks.emit(obj, [payloads.messaging_entry(page.id, ms, [event])])
        return message_id

    async def retry_last(self) -> Delivery:
        """Meta redelivers the same event (same bytes, same signature) when it is unsure it arrived."""
        if not self.webhooks.deliveries:
            raise LookupError("nothing has been delivered yet")
        return await self.webhooks.resend(self.webhooks.deliveries[-1])

    def batched(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.webhooks.batched()

    async def drain(self, within: float = 10.0) -> None:
        await self.webhooks.drain(within)

    async def aclose(self) -> None:
        await self.webhooks.aclose()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[MetaSandbox]:
        try:
            yield self
        finally:
            await self.aclose()

    def customer_name(self, user_id: str) -> str:
        return self._names.get(user_id, "Sandbox Customer")

    def user_profile(self, user_id: str, fields: str) -> dict[str, Any] | None:
        """GET /{PSID or IGSID}?fields=… as Graph answers it for a person who wrote to a Page or IG account:
        Messenger's first_name / last_name, Instagram's name / username (only the fields asked for). None for
        an id that never wrote here or whose profile is withheld (Graph answers those with an error)."""
        if user_id not in self._names or user_id in self.withheld_profiles:
            return None
        if not any(user_id == u for _, u in self.last_inbound):
            return None
        name = self._names[user_id]
        first, _, last = name.partition(" ")
        known = {
            "id": user_id,
            "first_name": first,
            "last_name": last,
            "name": name,
            "username": name.lower().replace(" ", "."),
        }
        wanted = [f.strip() for f in fields.split(",") if f.strip()] or ["id", "name"]
        return {"id": user_id, **{f: known[f] for f in wanted if f in known}}
