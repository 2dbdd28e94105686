"""A request validation error (pydantic's) as a machine-readable problem a client can put in its own words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def field_problem(field: str, error: Mapping[str, Any]) -> dict[str, Any]:
    """`{"field": "steps.0.question", "type": "string_too_long", "ctx": {"max_length": 500}, "message": "…"}`.

    `field` — the error's location joined by dots, without the leading "body"; `type` — pydantic's stable error type
    (https://docs.pydantic.dev/latest/errors/validation_errors/); `ctx` — only its scalar values (limits, expected
    choices, a pattern): never the input, which may be a password or a customer's words; `message` — pydantic's
    English sentence, for a type the client does not know.
    """
    context = {
        key: value
        for key, value in (error.get("ctx") or {}).items()
        if isinstance(value, str | int | float | bool) and not isinstance(value, Exception)
    }
    return {"field": field, "type": str(error.get("type", "")), "ctx": context, "message": str(error.get("msg", ""))}
