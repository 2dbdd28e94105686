"""What a file really is: the declared type is checked against its bytes (puremagic's signatures).

A browser renders an `image/png` inline; if the bytes were HTML, a customer could run script in our origin. So the
types we vouch for — the raster images we serve inline, and PDF — must match their magic numbers, or the file is
refused with 422 `attachment_type_mismatch`. Other declared types are kept as declared and only ever served as
downloads (`Content-Disposition: attachment`, `nosniff`), where a wrong label does no harm.
"""

from __future__ import annotations

import puremagic

from helpline.platform.errors import Invalid

# Served inline when their bytes agree (attachments/api.py); SVG is excluded: it can carry script.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
VERIFIED = INLINE_IMAGES | {"application/pdf"}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
SNIFF_BYTES = 4096


class TypeMismatch(Invalid):
    code = "attachment_type_mismatch"


def normalize(content_type: str) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def detected_types(data: bytes) -> set[str]:
    """Every MIME type puremagic's signatures match in the first SNIFF_BYTES bytes (empty when none match)."""
    try:
        matches = puremagic.magic_string(data[:SNIFF_BYTES])
    except (puremagic.PureError, ValueError):
        return set()
    return {normalize(m.mime_type) for m in matches if m.mime_type}


def check_declared_type(data: bytes, content_type: str) -> str:
    """The normalized declared type, after checking it against the bytes when it is one we vouch for
    (`VERIFIED`); raises TypeMismatch (422) naming what the bytes look like otherwise."""
    declared = normalize(content_type)
    if declared in VERIFIED and declared not in detected_types(data):
        seen = ", ".join(sorted(detected_types(data))) or "no known type"
        raise TypeMismatch(f"the file is declared as {declared} but its content is {seen}")
    return declared


def is_inline_image(head: bytes, content_type: str) -> bool:
    """True when a file may be shown inline: a raster image type whose bytes agree (checked again when served,
    for files stored before the check existed)."""
    declared = normalize(content_type)
    return declared in INLINE_IMAGES and declared in detected_types(head)
