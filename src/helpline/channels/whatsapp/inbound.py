"""WhatsApp webhook `changes[]` → normalized events (pure: no I/O). Shapes: provider-contracts.md §2.1-2.2."""

from __future__ import annotations

import mimetypes
from typing import Any

from helpline.channels.base import (
    DeliveryStatusChanged,
    IdentityChanged,
    InboundAttachment,
    InboundContact,
    InboundEvent,
    InboundMessage,
    InboundReaction,
    TemplateStatusChanged,
)
from helpline.channels.meta.errors import status_error
from helpline.channels.meta.webhook import from_seconds, items, obj
from helpline.channels.whatsapp.readable import flow_response, flow_text, media_summary, order_text

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MEDIA_SOURCE = "meta-media:"  # attachments.source_url of a WhatsApp media id; fetched by the adapter
STATUS_STATES = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}


def parse_change(change: dict[str, Any]) -> list[InboundEvent]:
    field = change.get("field")
    value = change.get("value")
    if not isinstance(value, dict):
        return []
    if field == "message_template_status_update":
        return _template_status(value)
    if field != "messages":
        return []
    names = {str(c.get("wa_id")): obj(c, "profile").get("name") for c in items(value, "contacts") if c.get("wa_id")}
    events: list[InboundEvent] = []
    for message in items(value, "messages"):
        event = _message(message, names)
        if event is not None:
            events.append(event)
    events.extend(_status(s) for s in items(value, "statuses") if s.get("id") and s.get("status") in STATUS_STATES)
    return events


def _template_status(value: dict[str, Any]) -> list[InboundEvent]:
    name, status = value.get("message_template_name"), value.get("event")
    if not name or not status:
        return []
    template_id = value.get("message_template_id")
    return [
        TemplateStatusChanged(
            name=str(name),
            language=str(value["message_template_language"]) if value.get("message_template_language") else None,
            status=str(status).upper(),
            provider_template_id=str(template_id) if template_id is not None else None,
            reason=str(value["reason"]) if value.get("reason") not in (None, "NONE") else None,
            category=str(value["message_template_category"]) if value.get("message_template_category") else None,
        )
    ]


def _status(status: dict[str, Any]) -> DeliveryStatusChanged:
    state = STATUS_STATES[str(status["status"])]
    code, reason = status_error(status.get("errors")) if state == "failed" else (None, None)
    return DeliveryStatusChanged(
        provider_message_id=str(status["id"]),
        state=state,
        timestamp=from_seconds(status.get("timestamp")),
        error_code=code,
        error_reason=reason,
    )


def _filename(kind: str, media: dict[str, Any], mime: str) -> str:
    if media.get("filename"):
        return str(media["filename"])
    extension = {"audio/ogg": ".ogg", "image/webp": ".webp"}.get(mime) or mimetypes.guess_extension(mime) or ""
    return f"{'voice' if media.get('voice') else kind}-{media.get('id', 'file')}{extension}"


def _media(kind: str, media: dict[str, Any]) -> tuple[InboundAttachment | None, dict[str, Any]]:
    # "audio/ogg; codecs=opus": the parameters would defeat the allowed-type check.
    mime = str(media.get("mime_type") or "application/octet-stream").split(";")[0].strip().lower()
    extra: dict[str, Any] = {k: media[k] for k in ("id", "sha256", "voice", "animated") if k in media}
    if not media.get("id"):
        return None, extra
    attachment = InboundAttachment(
        filename=_filename(kind, media, mime), content_type=mime, source_url=MEDIA_SOURCE + str(media["id"])
    )
    return attachment, extra


def _location_text(location: dict[str, Any]) -> str:
    label = " — ".join(str(location[k]) for k in ("name", "address") if location.get(k))
    coordinates = f"{location.get('latitude')}, {location.get('longitude')}"
    return f"📍 {label or coordinates}"


def _interactive(data: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    reply_type = str(data.get("type") or "")
    reply = obj(data, reply_type)
    if reply_type == "nfm_reply":
        # A WhatsApp Flow submission: the answers are in `response_json`, a JSON string.
        response = flow_response(reply.get("response_json"))
        name = str(reply["name"]) if reply.get("name") else None
        flow: dict[str, Any] = {
            "type": reply_type,
            **{k: reply[k] for k in ("name", "body", "response_json") if k in reply},
        }
        return flow_text(name, response), {"interactive": {**flow, "response": response}}
    choice: dict[str, Any] = {"type": reply_type, **{k: reply[k] for k in ("id", "title", "description") if k in reply}}
    title = str(reply.get("title") or "") or None
    return title, {"interactive": choice, "summary": f"[{reply_type or 'interactive'} reply]"}


def _body(kind: str, message: dict[str, Any]) -> tuple[str | None, dict[str, Any], list[InboundAttachment]]:
    """(text, content, attachments) of one message by its type; content["summary"] is a readable stand-in
    for the inbox preview when there is no text. Every type keeps its data."""
    part = message.get(kind)
    data: dict[str, Any] = part if isinstance(part, dict) else {}
    if kind == "text":
        return str(data.get("body") or ""), {}, []
    if kind in MEDIA_TYPES:
        attachment, extra = _media(kind, data)
        caption = str(data["caption"]) if data.get("caption") else None
        return caption, {"media": extra, "summary": media_summary(kind, data)}, [attachment] if attachment else []
    if kind == "location":
        return _location_text(data), {"location": data}, []
    if kind == "contacts":
        cards = items(message, "contacts")
        names = [str(obj(c, "name").get("formatted_name") or "") for c in cards]
        return "👤 " + ", ".join(n for n in names if n), {"contacts": cards}, []
    if kind == "interactive":
        text, content = _interactive(data)
        return text, content, []
    if kind == "button":
        return (
            str(data.get("text") or "") or None,
            {"button": {"payload": data.get("payload"), "text": data.get("text")}, "summary": "[button reply]"},
            [],
        )
    if kind == "order":
        return order_text(data), {"order": data}, []
    if kind == "system":
        return str(data.get("body") or "") or None, {"system": data, "summary": "[system message]"}, []
    if kind == "request_welcome":
        return None, {"request_welcome": data, "summary": "[opened the chat]"}, []
    if kind == "unsupported" or message.get("errors"):
        errors = message.get("errors") if isinstance(message.get("errors"), list) else []
        what = str(data.get("type") or kind)
        return None, {"unsupported": {"type": what, "errors": errors}, "summary": f"[unsupported message: {what}]"}, []
    # Types newer than this adapter are kept as they came, with a readable placeholder.
    return None, {kind or "unknown": part, "summary": f"[{kind or 'unknown'} message]"}, []


def _number_change(message: dict[str, Any], contact: InboundContact) -> IdentityChanged | None:
    system = obj(message, "system")
    new_id = system.get("wa_id") or system.get("new_wa_id")
    if system.get("type") != "user_changed_number" or not new_id:
        return None
    return IdentityChanged(
        contact=contact,
        new_provider_id=str(new_id),
        provider_message_id=str(message.get("id")),
        text=str(system.get("body") or f"The customer changed their number to {new_id}"),
        timestamp=from_seconds(message.get("timestamp")),
    )


def _message(message: dict[str, Any], names: dict[str, Any]) -> InboundEvent | None:
    sender, message_id, kind = message.get("from"), message.get("id"), str(message.get("type") or "")
    if not sender or not message_id:
        return None
    sender = str(sender)
    contact = InboundContact(provider_id=sender, name=names.get(sender), phone="+" + sender.lstrip("+"))
    timestamp = from_seconds(message.get("timestamp"))
    if kind == "reaction":
        reaction = obj(message, "reaction")
        if not reaction.get("message_id"):
            return None
        return InboundReaction(
            contact=contact,
            target_provider_id=str(reaction["message_id"]),
            emoji=str(reaction["emoji"]) if reaction.get("emoji") else None,  # empty: the reaction was removed
            timestamp=timestamp,
        )
    if kind == "system" and (change := _number_change(message, contact)) is not None:
        return change
    text, content, attachments = _body(kind, message)
    context = obj(message, "context")
    if context.get("forwarded") or context.get("frequently_forwarded"):
        content["forwarded"] = "frequently" if context.get("frequently_forwarded") else True
    referral = obj(message, "referral")
    if referral:
        content["referral"] = referral
    return InboundMessage(
        contact=contact,
        provider_message_id=str(message_id),
        text=text,
        timestamp=timestamp,
        content_type=kind or "unsupported",
        content=content,
        attachments=tuple(attachments),
        reply_to_provider_id=str(context["id"]) if context.get("id") else None,
        referral_id=str(referral["source_id"]) if referral and referral.get("source_id") else None,
    )
