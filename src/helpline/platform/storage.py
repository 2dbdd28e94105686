"""Attachment storage on the local disk, addressed by content hash (an object store can replace it)."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpline.platform.errors import Invalid, TooLarge
from helpline.platform.filetypes import check_declared_type


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    storage_key: str


class BlobStore:
    """Writes each distinct content once under <root>/<aa>/<bb>/<sha256>; identical files share storage."""

    def __init__(self, root: Path, *, max_bytes: int, allowed_types: list[str]) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.allowed_types = allowed_types

    def check_type(self, content_type: str) -> None:
        base = content_type.split(";", 1)[0].strip().lower()
        if not any(fnmatch.fnmatch(base, pattern) for pattern in self.allowed_types):
            raise Invalid(f"attachments of type {base!r} are not accepted", code="attachment_type")

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise TooLarge(f"attachment is {size} bytes; the limit is {self.max_bytes}")

    def put(self, data: bytes, content_type: str) -> StoredBlob:
        """Store `data`; raises Invalid for a refused type, TypeMismatch when the bytes contradict a declared image
        or PDF type (platform/filetypes.py), TooLarge over the size limit."""
        self.check_type(content_type)
        self.check_size(len(data))
        check_declared_type(data, content_type)
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest[2:4]}/{digest}"
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write to a temporary file and rename, so a crash never leaves a truncated blob under its hash.
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(tmp).replace(path)
        return StoredBlob(sha256=digest, size=len(data), storage_key=key)

    def path(self, storage_key: str) -> Path:
        path = (self.root / storage_key).resolve()
        if self.root.resolve() not in path.parents:
            raise Invalid("bad storage key")
        return path

    def read(self, storage_key: str) -> bytes:
        return self.path(storage_key).read_bytes()
