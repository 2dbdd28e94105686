"""Text from a MIME part's bytes whatever its label says: declared charset first, then detection.

Mail in the wild is mislabelled (Latin-1 declared as UTF-8, UTF-8 declared as Latin-1 or not declared at
all, unknown charset names); charset-normalizer guesses when the declared one cannot be right.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

# Single-byte charsets decode any byte sequence, so a decode "success" proves nothing: bytes that form valid
# UTF-8 with non-ASCII characters under such a label are UTF-8 mislabelled (accidental valid UTF-8 is rare).
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_PERMISSIVE = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252", "iso8859-1"}


def decode_text(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """(text, problem): `data` decoded; `problem` names what was wrong with the label, None when it was right.

    Order: the declared charset (strict), UTF-8 when the label is a permissive single-byte one or missing,
    charset-normalizer's best guess, and finally UTF-8 with U+FFFD for what is left (never raises)."""
    label = (declared or "").strip().strip('"').lower() or None
    codec: str | None = None
    if label:
        try:
            codec = codecs.lookup(label).name
        except LookupError:
            codec = None
    if (label is None or (codec and codec in {codecs.lookup(c).name for c in _PERMISSIVE})) and not data.isascii():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return text, None if label is None else f"declared {label}, decoded as UTF-8"
    if codec is not None:
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            pass
    matches = list(from_bytes(data))
    guess = matches[0] if matches else None
    # Among equally plausible single-byte guesses, take windows-1252 (WHATWG's default for Western legacy
    # text): short mails leave the detector tied between code pages, and most mislabelled mail is Western.
    western = next((m for m in matches if m.encoding in _WESTERN), None)
    if guess is not None and western is not None and western.chaos <= guess.chaos and not guess.coherence:
        guess = western
    if guess is not None:
        what = f"declared {label}" if label else "no charset declared"
        return str(guess), f"{what}, detected {guess.encoding}"
    return data.decode("utf-8", errors="replace"), f"charset {label or 'unknown'} undecodable; replaced bad bytes"
