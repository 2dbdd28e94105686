"""Customer HTML made safe to show (nh3, the Rust `ammonia` sanitiser) and readable as plain text.

Never rendered raw: scripts, styles, event handlers, forms and `javascript:` URLs go; remote images are
blocked by default (a tracking pixel tells the sender when and where the mail was read), inline `cid:`
images stay and point at the message's attachments.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

import nh3

# `cid:` references an inline part of the same mail (RFC 2392).
_URL_SCHEMES = {"http", "https", "mailto", "cid"}
_DROP_CONTENT = {"script", "style", "title", "head"}
# Quoted history in HTML: Gmail, Apple Mail/Thunderbird, Outlook (provider-contracts §6).
_QUOTE_MARKERS = (
    re.compile(r"<div[^>]*class=\"[^\"]*gmail_quote[^\"]*\"", re.IGNORECASE),
    re.compile(r"<blockquote[^>]*type=\"?cite\"?", re.IGNORECASE),
    re.compile(r"<div[^>]*id=\"?divRplyFwdMsg\"?", re.IGNORECASE),
)
_BLOCK_END = re.compile(r"<(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class CleanHtml:
    html: str
    blocked_images: int


def sanitize(raw: str, *, allow_remote_images: bool = False) -> CleanHtml:
    """`raw` with everything active removed; remote `<img src>` dropped (counted) unless allowed."""
    blocked = 0

    def keep(element: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        if element == "img" and attribute == "src":
            if value.lower().startswith("cid:") or allow_remote_images:
                return value
            blocked += 1
            return None
        return value

    cleaned = nh3.clean(
        raw,
        url_schemes=_URL_SCHEMES,
        clean_content_tags=_DROP_CONTENT,
        attribute_filter=keep,
        link_rel="noopener noreferrer nofollow",
    )
    return CleanHtml(cleaned, blocked)


def without_quotes(raw: str) -> str:
    """The HTML before the first quoted-history marker (the whole of it when there is none)."""
    cut = min((m.start() for pattern in _QUOTE_MARKERS if (m := pattern.search(raw))), default=len(raw))
    return raw[:cut]


def to_text(raw: str) -> str:
    """Readable text of an HTML body: block ends become line breaks, tags and scripts go, entities decode."""
    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n", raw)
    stripped = nh3.clean(marked, tags=set(), clean_content_tags=_DROP_CONTENT)
    text = html_lib.unescape(stripped)
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
