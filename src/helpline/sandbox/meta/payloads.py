"""Pure builders of Meta webhook bodies (WhatsApp, Messenger, Instagram) in the shapes of the wire contract."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

WHATSAPP_TYPES = (
    "text",
    "image",
    "document",
    "audio",
    "video",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "unsupported",
    "system",
)


def wamid() -> str:
    return "wamid.HBgL" + secrets.token_urlsafe(24).replace("-", "A").replace("_", "B")


def mid() -> str:
    return "m_" + secrets.token_urlsafe(30).replace("-", "A").replace("_", "B")


def _media(media_id: str, mime: str, **more: Any) -> dict[str, Any]:
    return {"id": media_id, "mime_type": mime, "sha256": hashlib.sha256(media_id.encode()).hexdigest(), **more}


def whatsapp_message_body(kind: str, *, text: str | None, media_id: str | None) -> dict[str, Any]:
    """A typical body for each inbound type (provider-contracts §2.1); callers may override any field."""
    media = media_id or "0"
    bodies: dict[str, dict[str, Any]] = {
        "text": {"text": {"body": text or ""}},
        "image": {"image": _media(media, "image/jpeg", **({"caption": text} if text else {}))},
        "document": {
            "document": _media(media, "application/pdf", filename="policy.pdf", **({"caption": text} if text else {}))
        },
        "audio": {"audio": _media(media, "audio/ogg; codecs=opus", voice=True)},
        "video": {"video": _media(media, "video/mp4", **({"caption": text} if text else {}))},
        "sticker": {"sticker": _media(media, "image/webp", animated=False)},
        "location": {
            "location": {"latitude": -23.5613, "longitude": -46.6565, "name": "Av. Paulista", "address": "São Paulo"}
        },
        "contacts": {
            "contacts": [
                {
                    "name": {"formatted_name": "Ana Souza", "first_name": "Ana"},
                    "phones": [{"phone": "+55 11 98765-4321", "wa_id": "5511987654321", "type": "CELL"}],
                }
            ]
        },
        "interactive": {"interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": text or "Yes"}}},
        "button": {"button": {"payload": "TALK_TO_AGENT", "text": text or "Talk to an agent"}},
        "reaction": {"reaction": {"message_id": "", "emoji": text if text is not None else "👍"}},
        "unsupported": {
            "errors": [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
            "unsupported": {"type": "edit"},
        },
        "system": {"system": {"body": text or "User changed number", "wa_id": "", "type": "user_changed_number"}},
    }
    if kind not in bodies:
        raise ValueError(f"unknown WhatsApp message type {kind!r}; known: {', '.join(WHATSAPP_TYPES)}")
    return bodies[kind]


def whatsapp_envelope(
    waba_id: str, phone_number_id: str, display_phone_number: str, value: dict[str, Any]
) -> dict[str, Any]:
    """One `entry` of a WhatsApp webhook; `value` holds contacts+messages, statuses or errors."""
    return {
        "id": waba_id,
        "changes": [
            {
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
                    **value,
                },
            }
        ],
    }


def whatsapp_status(
    message_id: str,
    status: str,
    *,
    recipient_id: str,
    timestamp: int,
    error: dict[str, Any] | None = None,
    first: bool = False,
) -> dict[str, Any]:
    """A `statuses[]` item: per-message pricing (PMP, since July 2025); `failed` has errors and no pricing."""
    item: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient_id,
    }
    if status == "failed":
        item["errors"] = [error or {}]
        return item
    if first:
        item["conversation"] = {
            "id": secrets.token_hex(16),
            "expiration_timestamp": str(timestamp + 24 * 3600),
            "origin": {"type": "service"},
        }
    item["pricing"] = {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    return item


def messaging_entry(asset_id: str, time_ms: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    """One `entry` of a Messenger (`object: page`) or Instagram (`object: instagram`) webhook."""
    return {"id": asset_id, "time": time_ms, "messaging": events}


def messaging_event(sender: str, recipient: str, timestamp_ms: int, **body: Any) -> dict[str, Any]:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": timestamp_ms, **body}


def envelope(obj: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": obj, "entry": entries}
