"""Forgetting frames: after an erasure or a withdrawal, frames about it leave every process's replay buffer.

The erasure writes one `privacy.forget` frame (ids only, no personal data) through the outbox; the worker
publishes it like any frame, so every API process's hub receives it, drops the buffered frames that reference
those ids, and neither buffers nor relays the control frame itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

FORGET = "privacy.forget"

# A key holding an id of one kind, and a key whose object (or list of objects) has an "id" of one kind.
ID_KEYS = {
    "contact_id": "contact",
    "conversation_id": "conversation",
    "message_id": "message",
    "reply_to_id": "message",
    "attachment_id": "attachment",
}
OBJECT_KEYS = {
    "contact": "contact",
    "conversation": "conversation",
    "message": "message",
    "messages": "message",
    "attachment": "attachment",
    "attachments": "attachment",
}

Ids = Mapping[str, set[int]]


def _is_id(value: Any, kind: str, ids: Ids) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in ids.get(kind, set())


def references(value: Any, ids: Ids, kind: str | None = None) -> bool:
    """True when a JSON-like value names one of `ids` ({"contact"|"conversation"|"message"|"attachment": {…}})
    through an id key ("conversation_id": 7) or an object's "id" under a named key ("message": {"id": 9})."""
    if isinstance(value, Mapping):
        if kind is not None and _is_id(value.get("id"), kind, ids):
            return True
        for key, item in value.items():
            if key in ID_KEYS and _is_id(item, ID_KEYS[key], ids):
                return True
            if isinstance(item, Mapping | list) and references(item, ids, OBJECT_KEYS.get(str(key))):
                return True
        return False
    if isinstance(value, list):
        return any(references(item, ids, kind) for item in value)
    return False


def preview_digest(preview: str) -> str:
    """SHA-256 of a conversation preview: lets a control frame name withdrawn text without carrying it."""
    return hashlib.sha256(preview.encode("utf-8", "surrogatepass")).hexdigest()


def forget_frame(ids: Ids, previews: Iterable[str] = ()) -> dict[str, Any]:
    """The control frame an erasure or a withdrawal publishes (audience: nobody; the hubs act on it and drop
    it). `previews` are conversation previews that must not be replayed; the frame holds only their digests."""
    frame: dict[str, Any] = {
        "type": FORGET,
        "audience": {"operator_id": 0},
        "forget": {k: sorted(v) for k, v in ids.items()},
    }
    digests = sorted({preview_digest(p) for p in previews})
    if digests:
        frame["previews"] = digests
    return frame


def forgets(frame: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """The predicate a hub drops buffered frames by: they reference a forgotten id, or they show a conversation
    whose preview is a forgotten one."""
    ids = forget_ids(frame)
    digests = set(frame.get("previews") or [])

    def forgotten(buffered: Mapping[str, Any]) -> bool:
        if references(buffered, ids):
            return True
        data = buffered.get("data")
        if not isinstance(data, Mapping):
            return False
        # A message frame's data is the message itself ({"id": …} with no key naming its kind).
        if str(buffered.get("type", "")).startswith("message.") and _is_id(data.get("id"), "message", ids):
            return True
        last = data.get("last_message")
        preview = last.get("preview") if isinstance(last, Mapping) else None
        return isinstance(preview, str) and preview_digest(preview) in digests

    return forgotten


def forget_ids(frame: Mapping[str, Any]) -> dict[str, set[int]]:
    raw = frame.get("forget") or {}
    return {str(kind): {int(i) for i in values} for kind, values in raw.items()}
