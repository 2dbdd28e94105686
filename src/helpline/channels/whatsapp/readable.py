"""Readable text for WhatsApp message types that carry no text of their own (flows, orders, media, unknowns).

Every type keeps its data in `content`; these functions only make it legible to an operator and the bot.
Shapes: Meta's webhook reference for `interactive` (nfm_reply), `order`, `unsupported`, `request_welcome`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Field ids Meta's Flow builder generates: `screen_0_Rating_0` → "Rating".
_GENERATED_ID = re.compile(r"^screen_\d+_(?P<name>.+?)_\d+$")
_HIDDEN_FLOW_FIELDS = {"flow_token"}

MEDIA_LABELS = {
    "image": "[image]",
    "video": "[video]",
    "audio": "[audio]",
    "document": "[document]",
    "sticker": "[sticker]",
}


def field_label(key: str) -> str:
    match = _GENERATED_ID.match(key)
    name = match.group("name") if match else key
    return name.replace("_", " ").strip() or key


def _value_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def flow_response(raw: Any) -> dict[str, Any]:
    """The submitted fields of a Flow (`nfm_reply.response_json`, a JSON string); {} when unreadable."""
    if isinstance(raw, dict):
        return raw
    try:
        # NaN / Infinity are not JSON (RFC 8259 §6); kept as text so the stored data stays valid JSON.
        parsed = json.loads(str(raw), parse_constant=str)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def flow_text(name: str | None, response: dict[str, Any]) -> str:
    """One line per answer ("Rating: 0_Excelente"); the flow token stays in the data only."""
    lines = [f"{field_label(k)}: {_value_text(v)}" for k, v in response.items() if k not in _HIDDEN_FLOW_FIELDS]
    title = f"📝 Form submitted ({name})" if name and name != "flow" else "📝 Form submitted"
    return "\n".join([title, *lines])


def order_text(order: dict[str, Any]) -> str:
    products = [p for p in order.get("product_items") or [] if isinstance(p, dict)]
    parts = [
        f"{p.get('quantity', 1)} x {p.get('product_retailer_id', '?')}"
        + (f" ({p.get('item_price')} {p.get('currency', '')})".rstrip() if p.get("item_price") is not None else "")
        for p in products
    ]
    head = f"🛒 Order of {len(products)} item{'s' if len(products) != 1 else ''}"
    note = str(order.get("text") or "")
    return "\n".join(x for x in (head, "; ".join(parts), note) if x)


def media_summary(kind: str, media: dict[str, Any]) -> str:
    if kind == "audio" and media.get("voice"):
        return "[voice message]"
    if kind == "sticker":
        return "[animated sticker]" if media.get("animated") else "[sticker]"
    label = MEDIA_LABELS.get(kind, f"[{kind}]")
    return f"{label} {media['filename']}" if kind == "document" and media.get("filename") else label
