"""SQL LIKE patterns built from user text: `%`, `_` and the escape character itself match only themselves."""

from __future__ import annotations

LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A lower-cased `%…%` pattern matching `text` literally anywhere; use with `.like(p, escape=LIKE_ESCAPE)`
    on a lower-cased column."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
