"""Draws simple PNG logos in pure Python, so the demo ships no binary files."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def disc_png(rgb: tuple[int, int, int], size: int = 64) -> bytes:
    """A filled disc of one colour on a transparent background."""
    rows = []
    radius = size / 2 - 1
    for y in range(size):
        row = bytearray([0])  # filter type: none
        for x in range(size):
            inside = (x - size / 2 + 0.5) ** 2 + (y - size / 2 + 0.5) ** 2 <= radius**2
            row += bytes([*rgb, 255 if inside else 0])
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
