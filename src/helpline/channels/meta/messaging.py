"""Messenger and Instagram `entry[].messaging[]` events → normalized events (pure). Contract §3.1 and §4."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from helpline.channels.base import (
    DeliveryStatusChanged,
    DeliveryWatermark,
    InboundAttachment,
    InboundContact,
    InboundDeletion,
    InboundEdit,
    InboundEvent,
    InboundMessage,
    InboundReaction,
)
from helpline.channels.meta.webhook import from_millis, items, obj

# Attachment types that are files we can store; the rest (shares, reels, story mentions…) are links.
FILE_TYPES = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mp4", "file": "application/octet-stream"}
OWN_METADATA_PREFIX = "helpline-message-"  # what our sends put in `metadata`, echoed back by Messenger
# How a shared (non-file) attachment reads in the inbox; contract §3.1 and §4 list the types.
SHARE_LABELS = {
    "share": "[shared a post]",
    "post": "[shared a post]",
    "ig_post": "[shared a post]",
    "reel": "[shared a reel]",
    "ig_reel": "[shared a reel]",
    "story_mention": "[mentioned you in their story]",
    "location": "[shared a location]",
    "fallback": "[shared a link]",
    "template": "[shared a card]",
    "appointment_booking": "[booked an appointment]",
    "sticker": "[sticker]",
}


def is_true(value: Any) -> bool:
    """Meta sends some flags as JSON booleans and some as strings ("true"): both count."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def url_filename(url: str) -> str:
    """The last path segment of a CDN URL, percent-decoded exactly once (RFC 3986 §2.1): the URL carries the
    customer's original name encoded (`Rechnung%20M%C3%A4rz.pdf`); the query string is never part of it."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1], errors="replace")


def _is_own_echo(message: Mapping[str, Any], app_id: str | None) -> bool:
    """Our own sends come back as echoes: recognised by our app id or the metadata we attached."""
    if app_id and str(message.get("app_id") or "") == app_id:
        return True
    return str(message.get("metadata") or "").startswith(OWN_METADATA_PREFIX)


def _attachment(item: dict[str, Any], index: int, mid: str) -> InboundAttachment | None:
    kind = str(item.get("type") or "")
    if kind == "sticker":
        kind = "image"
    url = str(obj(item, "payload").get("url") or "")
    if kind not in FILE_TYPES or not url:
        return None
    name = url_filename(url)
    guessed = mimetypes.guess_type(name)[0]
    content_type = guessed if guessed and guessed.split("/")[0] == FILE_TYPES[kind].split("/")[0] else FILE_TYPES[kind]
    return InboundAttachment(
        filename=name[:200] or f"{kind}-{mid}-{index + 1}", content_type=content_type, source_url=url
    )


def _summary(kinds: list[str]) -> str | None:
    """A readable stand-in for shared (non-file) attachments; stored files are previewed by their name."""
    for kind in kinds:
        if kind in SHARE_LABELS:
            return SHARE_LABELS[kind]
    return f"[{kinds[0]}]" if kinds else None


def _referral_id(referral: Any) -> str | None:
    if not isinstance(referral, dict):
        return None
    value = referral.get("ad_id") or referral.get("ref") or referral.get("source")
    return str(value) if value else None


def _message(event: dict[str, Any], *, app_id: str | None) -> InboundEvent | None:
    message = event["message"]
    mid = message.get("mid")
    echo = is_true(message.get("is_echo"))
    if not mid or (echo and _is_own_echo(message, app_id)):
        return None
    # An echo goes from the business to the customer: the customer is then the recipient.
    person = obj(event, "recipient" if echo else "sender")
    if not person.get("id"):
        return None
    if is_true(message.get("is_deleted")):
        # Instagram's unsend: the customer withdrew the message; its content must go everywhere.
        return InboundDeletion(
            contact=InboundContact(provider_id=str(person["id"])),
            target_provider_id=str(mid),
            timestamp=from_millis(event.get("timestamp")),
        )
    content: dict[str, Any] = {}
    attachments: list[InboundAttachment] = []
    links: list[dict[str, Any]] = []
    for index, item in enumerate(items(message, "attachments")):
        stored = _attachment(item, index, str(mid))
        if stored is not None:
            attachments.append(stored)
        if stored is None or item.get("type") == "sticker":
            links.append({"type": item.get("type"), **obj(item, "payload")})
    sticker_id = message.get("sticker_id") or next(
        (link.get("sticker_id") for link in links if link.get("sticker_id")), None
    )
    if sticker_id:
        content["sticker"] = {"id": str(sticker_id)}
    if links:
        content["shares"] = links
        if any(link["type"] == "story_mention" for link in links):
            content["story_mention"] = True
    summary = "[sticker]" if sticker_id else _summary([str(link.get("type")) for link in links])
    if summary:
        content["summary"] = summary
    reply_to = obj(message, "reply_to")
    if isinstance(reply_to.get("story"), dict):
        content["story_reply"] = reply_to["story"]
    for key in ("quick_reply", "referral"):
        if isinstance(message.get(key), dict):
            content[key] = message[key]
    if echo:
        content["echo"] = {"app_id": message.get("app_id"), "metadata": message.get("metadata")}
    if message.get("is_unsupported"):
        content["unsupported"] = True
    text = message.get("text")
    if text is None and content.get("story_mention"):
        text = "[mentioned you in their story]"
    return InboundMessage(
        contact=InboundContact(provider_id=str(person["id"])),
        provider_message_id=str(mid),
        text=str(text) if text is not None else None,
        timestamp=from_millis(event.get("timestamp")),
        content_type="unsupported" if message.get("is_unsupported") else ("attachment" if attachments else "text"),
        content=content,
        attachments=tuple(attachments),
        reply_to_provider_id=str(reply_to["mid"]) if reply_to.get("mid") else None,
        echo=echo,
        referral_id=_referral_id(message.get("referral")),
    )


def _postback(event: dict[str, Any]) -> InboundEvent | None:
    postback, sender = event["postback"], obj(event, "sender").get("id")
    if not sender:
        return None
    # Older postbacks have no mid: the sender and the millisecond timestamp identify a click.
    mid = postback.get("mid") or f"postback-{sender}-{event.get('timestamp')}"
    return InboundMessage(
        contact=InboundContact(provider_id=str(sender)),
        provider_message_id=str(mid),
        text=str(postback.get("title") or postback.get("payload") or ""),
        timestamp=from_millis(event.get("timestamp")),
        content_type="postback",
        content={"postback": {k: postback[k] for k in ("title", "payload", "referral") if k in postback}},
        referral_id=_referral_id(postback.get("referral")),
    )


def _edit(event: dict[str, Any], sender: str) -> InboundEvent | None:
    """`message_edit{mid, text, num_edit}`: the customer changed a message they sent."""
    edit = obj(event, "message_edit")
    if not edit.get("mid") or not sender or not isinstance(edit.get("text"), str):
        return None
    count = edit.get("num_edit")
    return InboundEdit(
        contact=InboundContact(provider_id=sender),
        target_provider_id=str(edit["mid"]),
        text=str(edit["text"]),
        timestamp=from_millis(event.get("timestamp")),
        edit_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
    )


def parse_messaging(event: dict[str, Any], *, app_id: str | None) -> list[InboundEvent]:
    """One `messaging[]` item: a message or echo (or its unsend), an edit, a postback, a reaction, delivery
    or read receipts."""
    sender = str(obj(event, "sender").get("id") or "")
    events: list[InboundEvent] = []
    edited = _edit(event, sender)
    events.extend([edited] if edited else [])
    if isinstance(event.get("message"), dict):
        parsed = _message(event, app_id=app_id)
        events.extend([parsed] if parsed else [])
    if isinstance(event.get("postback"), dict):
        parsed = _postback(event)
        events.extend([parsed] if parsed else [])
    reaction = event.get("reaction")
    if isinstance(reaction, dict) and reaction.get("mid") and sender:
        removed = reaction.get("action") == "unreact"
        emoji = reaction.get("emoji") or reaction.get("reaction")
        events.append(
            InboundReaction(
                contact=InboundContact(provider_id=sender),
                target_provider_id=str(reaction["mid"]),
                emoji=None if removed or not emoji else str(emoji),
                timestamp=from_millis(event.get("timestamp")),
            )
        )
    for key, state in (("delivery", "delivered"), ("read", "read")):
        receipt = event.get(key)
        if not isinstance(receipt, dict):
            continue
        listed = receipt.get("mids")
        mids: list[Any] = list(listed) if isinstance(listed, list) else []
        mids += [receipt["mid"]] if receipt.get("mid") else []  # Instagram's read{mid}
        events.extend(DeliveryStatusChanged(provider_message_id=str(m), state=state) for m in mids if m)
        watermark = from_millis(receipt.get("watermark"))
        if watermark is not None and sender:
            events.append(DeliveryWatermark(contact_provider_id=sender, state=state, watermark=watermark))
    return events
