"""The Content-Disposition header of a download: the real file name, for every browser (RFC 6266, RFC 5987)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def ascii_fallback(filename: str) -> str:
    """`filename` in printable ASCII for the plain `filename=` parameter: accents dropped (März → Marz),
    other characters replaced by `_`, quotes and backslashes removed (they would end the quoted string)."""
    decomposed = unicodedata.normalize("NFKD", filename)
    chars = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        chars.append(ch if " " <= ch <= "~" and ch not in '"\\\\' else "_")
    return "".join(chars).strip() or "file"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="Rechnung Marz.pdf"; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf`.

    The name is encoded here exactly once: callers pass the decoded name as stored. RFC 6266 §4.3: a client
    that understands `filename*` prefers it; older ones use the ASCII fallback."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"
