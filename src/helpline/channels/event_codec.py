"""Normalized inbound events ⇄ JSON, so an event that failed to persist can wait in the outbox and be retried.

`{"type": "<class name>", "fields": {...}}`; datetimes as ISO 8601, bytes as base64, nested dataclasses
(contact, attachments) as objects. Decoding raises `ValueError` on anything it does not recognise.
"""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from datetime import datetime
from typing import Any

from helpline.channels import base

EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        base.InboundMessage,
        base.DeliveryStatusChanged,
        base.InboundReaction,
        base.DeliveryWatermark,
        base.TemplateStatusChanged,
        base.InboundDeletion,
        base.InboundEdit,
        base.IdentityChanged,
    )
}


def encode_event(event: base.InboundEvent) -> dict[str, Any]:
    """A JSON-ready dict of `event` (see the module docstring)."""
    return {"type": type(event).__name__, "fields": _encode(event)}


def decode_event(data: dict[str, Any]) -> base.InboundEvent:
    """The event `encode_event` produced; `ValueError` for an unknown type or a malformed field."""
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None or not isinstance(data.get("fields"), dict):
        raise ValueError(f"not an encoded inbound event: {str(data.get('type'))[:60]!r}")
    event: base.InboundEvent = _decode(cls, data["fields"])
    return event


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _decode(options[0], value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ValueError(f"{hint.__name__}: expected an object")
        hints = typing.get_type_hints(hint, vars(base))
        names = {f.name for f in dataclasses.fields(hint)}
        return hint(**{k: _decode(hints[k], v) for k, v in value.items() if k in names})
    if origin is tuple:
        return tuple(_decode(typing.get_args(hint)[0], v) for v in value)
    if hint is datetime:
        return datetime.fromisoformat(str(value))
    if hint is bytes:
        return base64.b64decode(str(value))
    return value
