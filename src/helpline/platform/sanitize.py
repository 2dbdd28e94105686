"""Text every database can store (lone UTF-16 surrogates and NUL replaced by U+FFFD, everywhere in a value),
customers' text cleaned at the inbound edge (`clean_inbound`: control characters removed as well), and the
test for text that shows nothing at all (`is_blank`).

JSON may legally carry `\\ud83d` (half of an emoji cut by a client) or `\\u0000`; Python decodes them into
strings that SQLite's UTF-8 encoder, PostgreSQL (text and jsonb refuse NUL and lone surrogates) and JSON
responses (UTF-8 encoding fails) all reject. One bad character must never cost a whole delivery, so inputs are
cleaned where they enter (webhook envelopes, request bodies, query strings) and once more at the database
boundary (`platform/db.py`). The rest of the text is kept as it came.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from typing import Any

REPLACEMENT = "\ufffd"
# A surrogate code point on its own (Python strings from JSON keep them unpaired) or NUL.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def clean_text(value: str) -> str:
    """`value` with each lone surrogate and NUL replaced by U+FFFD (the Unicode replacement character).

    A well-formed pair never appears as two code points in a Python `str` decoded from JSON: `json.loads`
    joins `\\ud83d\\ude00` into one character, so every surrogate left is unpaired.
    """
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


# Letters that draw nothing, used by chat apps and pranksters as "empty" text: Hangul fillers, braille blank.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Format (Cf: ZWSP U+200B, ZWJ U+200D, BOM U+FEFF, LRM…), control, and separator (space, line, paragraph).
_BLANK_CATEGORIES = frozenset(("Cf", "Cc", "Zs", "Zl", "Zp"))


def _invisible(char: str) -> bool:
    if char in _BLANK_LETTERS or "\ufe00" <= char <= "\ufe0f" or "\U000e0100" <= char <= "\U000e01ef":
        return True  # variation selectors alone show nothing either
    return unicodedata.category(char) in _BLANK_CATEGORIES


def is_blank(value: str | None) -> bool:
    """True when `value` is None, empty, or only characters that show nothing: whitespace, zero-width and
    other format characters (ZWSP, ZWJ, BOM, bidi marks), controls, variation selectors, blank fillers.
    A message of these reads as empty to a person, so it is refused where people write and read as empty
    where a provider delivers it. Emoji, punctuation and digits are visible ("?" and "👍" are not blank)."""
    return not value or all(_invisible(c) for c in value)


def without_invisible(value: str) -> str:
    """`value` without the characters `is_blank` counts as invisible that are not spacing: format characters
    (ZWSP, ZWJ, BOM, bidi marks and overrides), blank fillers, variation selectors. Spaces, tabs and line
    breaks stay, so word boundaries do not move. For reading typed values ("POL\u200b-482913" → "POL-482913");
    a message is stored as sent."""
    return "".join(c for c in value if c.isspace() or not _invisible(c))


def is_clean(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


# C0 control characters except tab, line feed and carriage return, and DEL: no keyboard types them, no
# screen shows them (a NUL read as "hi�null" to operators), and they break copy-paste into other systems.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_inbound_text(value: str) -> str:
    """A customer's text (message, name, file name…) as stored: C0 control characters other than tab/LF/CR
    and DEL removed, lone surrogates replaced by U+FFFD (`clean_text`); every other character kept."""
    if _CONTROLS.search(value) is not None:
        value = _CONTROLS.sub("", value)
    return clean_text(value)


def clean_value(value: Any) -> Any:
    """A copy of `value` with every string cleaned: dict keys and values, lists, tuples, frozen dataclasses.

    Other values (numbers, bytes, datetimes, None) come back unchanged; unchanged containers are returned as
    they are, so the common clean case allocates nothing.
    """
    return _walk(value, clean_text)


def clean_inbound(value: Any) -> Any:
    """`clean_value` for what customers send (inbound events of every channel, widget requests): every string
    through `clean_inbound_text`. Applied once at the inbound edge (`conversations/ingest.py`,
    `conversations/raw_inbound.py`, `platform/clean_input.py` for the widget)."""
    return _walk(value, clean_inbound_text)


def _walk(value: Any, text: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        cleaned = {_walk(k, text): _walk(v, text) for k, v in value.items()}
        return value if _same_items(value, cleaned) else cleaned
    if isinstance(value, list):
        items = [_walk(v, text) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        items = [_walk(v, text) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else tuple(items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            current = getattr(value, field.name)
            cleaned_field = _walk(current, text)
            if cleaned_field is not current:
                changes[field.name] = cleaned_field
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _same_items(original: dict[Any, Any], cleaned: dict[Any, Any]) -> bool:
    if len(original) != len(cleaned):
        return False
    for (k1, v1), (k2, v2) in zip(original.items(), cleaned.items(), strict=True):
        if k1 is not k2 or v1 is not v2:
            return False
    return True
