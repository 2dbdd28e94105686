"""The one-line preview of a message shown in the inbox: its text, else its readable summary, else its file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpline.attachments.models import Attachment

PREVIEW_LENGTH = 160


def message_preview(
    text: str | None, content: Mapping[str, Any] | None, attachments: Sequence[Attachment]
) -> str | None:
    """Up to PREVIEW_LENGTH characters: the text; for messages without text (a sticker, a shared reel, a
    location…) the adapter's readable `content["summary"]`; else the first file's name; else None."""
    if text:
        return text[:PREVIEW_LENGTH]
    summary = (content or {}).get("summary")
    if isinstance(summary, str) and summary:
        return summary[:PREVIEW_LENGTH]
    if attachments:
        return f"[attachment] {attachments[0].filename}"[:PREVIEW_LENGTH]
    return None
