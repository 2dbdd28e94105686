"""One SVG sprite of the icons the web app uses: Lucide glyphs (ISC, from the `lucide` package) plus channel marks.

Lucide has no brand logos, so the channel marks below are our own plain monochrome glyphs (never the providers'
artwork); the UI always pairs them with the channel's name.
"""

from __future__ import annotations

import zipfile
from importlib import resources
from xml.etree import ElementTree

# Lucide names used by the web app; add here when a screen needs a new one (the sprite stays small).
LUCIDE_ICONS = (
    "inbox",
    "message-square",
    "message-circle",
    "mail",
    "globe",
    "phone",
    "webhook",
    "bot",
    "user",
    "users",
    "user-check",
    "user-plus",
    "hand",
    "clock",
    "clock-alert",
    "lock",
    "check",
    "check-check",
    "circle-alert",
    "x",
    "paperclip",
    "send",
    "search",
    "funnel",
    "settings",
    "log-out",
    "moon",
    "sun",
    "bell",
    "bell-off",
    "keyboard",
    "arrow-left",
    "arrow-down",
    "arrow-up",
    "chevron-down",
    "chevron-right",
    "file",
    "file-text",
    "image",
    "map-pin",
    "contact",
    "reply",
    "tag",
    "flag",
    "calendar",
    "alarm-clock",
    "circle-check",
    "rotate-ccw",
    "undo-2",
    "plus",
    "trash-2",
    "pencil",
    "copy",
    "download",
    "refresh-cw",
    "wifi-off",
    "shield",
    "scroll-text",
    "book-open",
    "layout-template",
    "building-2",
    "sparkles",
    "play",
    "list",
    "panel-right",
    "star",
    "triangle-alert",
    "info",
    "smile",
    "external-link",
    "ellipsis",
    "wand-sparkles",
    "upload",
    "user-x",
    "grip-vertical",
    "history",
)

# Channel marks: 24x24 stroke glyphs drawn for Helpline (a speech bubble with a handset, a bolt, a camera).
CHANNEL_MARKS = {
    "ch-whatsapp": '<path d="M3 21l1.6-4.7A8.5 8.5 0 1 1 8 19.6Z"/><path d="M9 9.5c0 3 2.5 5.5 5.5 5.5l1-1.5-2-1'
    '-1 1c-1-.5-1.5-1-2-2l1-1-1-2Z"/>',
    "ch-messenger": '<path d="M12 3C7 3 3 6.7 3 11.3c0 2.6 1.3 4.9 3.3 6.4V21l3-1.7c.9.3 1.8.4 2.7.4 5 0 9-3.7 '
    '9-8.4S17 3 12 3Z"/><path d="m7 13.5 3.5-3.7 2.3 2.2 3.7-2.2-3.5 3.7-2.3-2.2Z"/>',
    "ch-instagram": '<rect x="3" y="3" width="18" height="18" rx="5"/><circle cx="12" cy="12" r="4"/>'
    '<circle cx="17.3" cy="6.7" r=".6"/>',
}


_SVG_NS = "{http://www.w3.org/2000/svg}"


def _lucide_symbol(archive: zipfile.ZipFile, name: str) -> str:
    # The SVGs come from an installed package we pinned, not from users: plain ElementTree is fine.
    svg = ElementTree.fromstring(archive.read(f"{name}.svg"))  # noqa: S314
    for node in svg.iter():
        node.tag = node.tag.removeprefix(_SVG_NS)
    inner = "".join(ElementTree.tostring(child, encoding="unicode") for child in svg)
    return f'<symbol id="{name}" viewBox="0 0 24 24">{inner}</symbol>'


def build_sprite() -> bytes:
    """The sprite: `<symbol id=name>` per icon, stroke styling inherited from the `<svg class="icon">` using it."""
    # The `lucide` package ships its SVGs in one zip; KeyError here means a name above is misspelt.
    with resources.as_file(resources.files("lucide") / "lucide.zip") as path, zipfile.ZipFile(path) as archive:
        symbols = [_lucide_symbol(archive, name) for name in LUCIDE_ICONS]
    symbols += [f'<symbol id="{name}" viewBox="0 0 24 24">{body}</symbol>' for name, body in CHANNEL_MARKS.items()]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" stroke-width="2" '
        'stroke-linecap="round" stroke-linejoin="round">' + "".join(symbols) + "</svg>"
    ).encode()
