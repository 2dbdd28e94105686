"""The WhatsApp Cloud API adapter: webhook parsing, sends (text, media, templates), media download, templates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar

from helpline.channels.base import (
    DeliveryError,
    InboundEvent,
    OutboundAttachment,
    OutboundMessage,
    ProviderTemplate,
    ReplyWindow,
    SentReceipt,
)
from helpline.channels.limits import MB, MediaRule, SendLimits, file_problem, text_problem
from helpline.channels.meta.adapter import MetaAdapter
from helpline.channels.meta.webhook import Routed, entries, items, obj
from helpline.channels.whatsapp.inbound import MEDIA_SOURCE, parse_change
from helpline.channels.whatsapp.payloads import WhatsAppCredentials, WhatsAppSettings
from helpline.platform.errors import TooLarge
from helpline.platform.http import download_limited

CAPTION_TYPES = ("image", "video", "document")
# What WhatsApp accepts for each media type (anything else goes as a document).
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/3gpp")
AUDIO_TYPES = ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
MAX_TEMPLATE_PAGES = 50


def media_type(content_type: str) -> str:
    base = content_type.split(";")[0].strip().lower()
    if base in IMAGE_TYPES:
        return "image"
    if base in VIDEO_TYPES:
        return "video"
    if base in AUDIO_TYPES:
        return "audio"
    return "document"


class WhatsAppAdapter(MetaAdapter):
    kind: ClassVar[str] = "whatsapp"
    # 24 h from the customer's last message; after that only approved templates (provider-contracts §2.5).
    window: ClassVar[ReplyWindow | None] = ReplyWindow(free_form=timedelta(hours=24), templates=True)
    # Text bodies up to 4096 characters (provider-contracts §2.3). Media sizes from Meta's Cloud API media
    # reference: images 5 MB, video and audio 16 MB, documents 100 MB; any other type goes as a document.
    limits: ClassVar[SendLimits] = SendLimits(
        provider="WhatsApp",
        max_text_length=4096,
        media=(
            MediaRule("image", IMAGE_TYPES, 5 * MB),
            MediaRule("video", VIDEO_TYPES, 16 * MB),
            MediaRule("audio", AUDIO_TYPES, 16 * MB),
            MediaRule("document", ("*/*",), 100 * MB),
        ),
    )
    settings_model = WhatsAppSettings
    credentials_model = WhatsAppCredentials

    @classmethod
    def identity_kind(cls, channel_id: int) -> str:
        # A wa_id is the customer's phone number: the same person on every WhatsApp channel.
        return "whatsapp"

    @classmethod
    def route(cls, payload: Mapping[str, Any]) -> list[Routed]:
        """Messages and statuses name their phone number; template updates only the WABA (entry.id)."""
        routed: list[Routed] = []
        for entry in entries(payload):
            for change in items(entry, "changes"):
                number = obj(obj(change, "value"), "metadata").get("phone_number_id")
                part = {"id": entry.get("id"), "changes": [change]}
                if number:
                    routed.append(Routed("phone_number_id", str(number), part))
                elif entry.get("id"):
                    routed.append(Routed("waba_id", str(entry["id"]), part))
        return routed

    def parse_entry(self, entry: dict[str, Any]) -> list[InboundEvent]:
        events: list[InboundEvent] = []
        for change in items(entry, "changes"):
            events.extend(parse_change(change))
        return events

    @property
    def phone_number_id(self) -> str:
        return str(self.config.settings.get("phone_number_id") or "")

    # ------------------------------------------------------------------ sending

    async def send(self, message: OutboundMessage) -> SentReceipt:
        base: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient_id,
        }
        if message.reply_to_provider_id:
            base["context"] = {"message_id": message.reply_to_provider_id}
        template = message.content.get("template")
        if isinstance(template, dict):
            return await self._post({**base, "type": "template", "template": template})
        text = (message.text or "").strip()
        problem = text_problem(self.limits, text) or next(
            (p for a in message.attachments if (p := file_problem(self.limits, a.filename, a.content_type, a.size))),
            None,
        )
        if problem is not None:
            raise DeliveryError(problem.message, retryable=False, code=problem.code)
        caption_on = next(
            (i for i, a in enumerate(message.attachments) if media_type(a.content_type) in CAPTION_TYPES), None
        )
        receipts: list[SentReceipt] = []
        if text and caption_on is None:
            receipts.append(await self._post({**base, "type": "text", "text": {"preview_url": False, "body": text}}))
        for index, attachment in enumerate(message.attachments):
            kind = media_type(attachment.content_type)
            media: dict[str, Any] = await self._media_reference(attachment)
            if index == caption_on and text:
                media["caption"] = text
            if kind == "document":
                media["filename"] = attachment.filename
            receipts.append(await self._post({**base, "type": kind, kind: media}))
        if not receipts:
            raise DeliveryError("nothing to send: no text and no files", retryable=False, code="empty")
        # The first part carries the message's identity: its statuses are the ones operators see.
        return receipts[0]

    async def _post(self, body: dict[str, Any]) -> SentReceipt:
        answer = await self.graph.call("POST", f"{self.phone_number_id}/messages", json=body)
        sent = answer.get("messages")
        provider_id = sent[0].get("id") if isinstance(sent, list) and sent and isinstance(sent[0], dict) else None
        return SentReceipt(provider_message_id=str(provider_id) if provider_id else None)

    async def _media_reference(self, attachment: OutboundAttachment) -> dict[str, Any]:
        """Upload the bytes (POST /{phone-number-id}/media) and send by id; without bytes, by our signed link."""
        if attachment.data is None:
            return {"link": attachment.url}
        answer = await self.graph.call(
            "POST",
            f"{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": attachment.content_type},
            files={"file": (attachment.filename, attachment.data, attachment.content_type)},
        )
        if not answer.get("id"):
            raise DeliveryError("WhatsApp media upload returned no id", retryable=True, code="upload_failed")
        return {"id": str(answer["id"])}

    async def mark_read(self, provider_message_id: str) -> None:
        """Blue ticks for the customer: their message was read by a person."""
        await self.graph.call(
            "POST",
            f"{self.phone_number_id}/messages",
            json={"messaging_product": "whatsapp", "status": "read", "message_id": provider_message_id},
        )

    # ------------------------------------------------------------------ media and templates

    async def fetch_attachment(self, source_url: str, max_bytes: int) -> tuple[bytes, str]:
        """GET /{media-id} → a URL valid for 5 minutes → GET it, both with the bearer token (contract §2.3)."""
        if not source_url.startswith(MEDIA_SOURCE):
            return await super().fetch_attachment(source_url, max_bytes)
        media_id = source_url.removeprefix(MEDIA_SOURCE)
        response = await self.http.get(self.graph.url(media_id), headers=self.graph.auth)
        response.raise_for_status()  # the attachment worker tells retryable from permanent by the status
        info = response.json()
        size = info.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise TooLarge(f"the file is {size} bytes; the limit is {max_bytes}")
        data, content_type = await download_limited(
            self.http, str(info["url"]), max_bytes=max_bytes, headers=self.graph.auth
        )
        return data, str(info.get("mime_type") or content_type).split(";")[0].strip()

    async def list_templates(self) -> list[ProviderTemplate]:
        """Every template of the channel's WhatsApp Business Account, following the cursor pagination."""
        waba_id = self.config.settings.get("waba_id")
        if not waba_id:
            raise DeliveryError("set the channel's waba_id to sync templates", retryable=False, code="no_waba_id")
        params: dict[str, Any] = {"limit": 100, "fields": "id,name,language,category,status,components"}
        found: list[ProviderTemplate] = []
        for _ in range(MAX_TEMPLATE_PAGES):
            answer = await self.graph.call("GET", f"{waba_id}/message_templates", params=params)
            for item in items(answer, "data"):
                if item.get("name") and item.get("language"):
                    found.append(
                        ProviderTemplate(
                            name=str(item["name"]),
                            language=str(item["language"]),
                            category=str(item.get("category") or ""),
                            status=str(item.get("status") or ""),
                            components=[c for c in item.get("components") or [] if isinstance(c, dict)],
                            provider_template_id=str(item["id"]) if item.get("id") else None,
                        )
                    )
            paging = obj(answer, "paging")
            after = obj(paging, "cursors").get("after")
            if not paging.get("next") or not after:
                break
            params = {**params, "after": after}
        return found
