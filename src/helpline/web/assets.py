"""The web app's static assets: one content version for the whole folder, served with immutable caching."""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from helpline.web.bundler import BUNDLE_DIR, build

STATIC_DIR = Path(__file__).parent / "static"

# Style sheets, in cascade order. The page links one file made of them all (STYLESHEET, built at start-up): one
# request instead of four (ui-guide §10: ≤ 25 requests on first load); the parts stay readable in it and on disk.
STYLES = ("css/app.css", "css/inbox.css", "css/conversation.css", "css/admin.css")
STYLESHEET = "css/helpline.css"

# The modules joined into bundles at start-up (bundler.py): one file for the first screen whichever it is (inbox,
# conversation, a 404 page), one per screen loaded later on demand. Served by default; `HELPLINE_WEB_BUNDLE=false`
# serves the modules one by one for debugging (docs/architecture.md). A module no group reaches (only loaded by a
# dynamic import()) is bundled alone. The first group's first module is the entry.
BUNDLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("app", ("js/app.js", "js/views/inbox.js", "js/palette.js", "js/notify.js", "js/views/missing.js")),
    ("login", ("js/views/login.js",)),
    ("preferences", ("js/views/preferences.js",)),
    ("admin", ("js/admin/*",)),
)
ENTRY = "js/app.js"
ENTRY_BUNDLE = f"{BUNDLE_DIR}/{BUNDLES[0][0]}.js"

# Unbundled only: modules every screen needs; the shell preloads them so the import graph does not cost round trips.
PRELOAD = (
    "js/app.js",
    "js/api.js",
    "js/problems.js",
    "js/dom.js",
    "js/i18n.js",
    "js/bidi.js",
    "js/router.js",
    "js/format.js",
    "js/names.js",
    "js/markdown.js",
    "js/realtime.js",
    "js/store.js",
    "js/shell.js",
    "js/prefs.js",
    "js/filters.js",
    "js/commands.js",
    "js/views/inbox.js",
    "js/views/sidebar.js",
    "js/views/list.js",
    "js/views/channels.js",
    "js/views/conversation.js",
    "js/views/composer.js",
    "js/tabs.js",
    "js/palette.js",
    "js/notify.js",
    "js/views/row.js",
    "js/views/chips.js",
    "js/views/options.js",
    "js/views/picker.js",
)

_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str


@dataclass
class AssetBundle:
    """Every file under static/ read once at start-up, plus generated ones (the icon sprite).

    The URL prefix `/assets/<version>/` changes whenever any file changes, so browsers may cache every asset
    for a year (`immutable`) and relative ES-module imports keep working without a build step.
    """

    files: dict[str, Asset] = field(default_factory=dict)
    version: str = ""

    @classmethod
    def load(cls, root: Path = STATIC_DIR, generated: dict[str, Asset] | None = None) -> AssetBundle:
        files: dict[str, Asset] = dict(catalogues(root / "i18n"))
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.parent.parent != root / "i18n":
                name = path.relative_to(root).as_posix()
                media_type = _TYPES.get(path.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
                files[name] = Asset(path.read_bytes(), media_type)
        files[STYLESHEET] = Asset(joined_styles(files), "text/css")
        files.update(bundles(files))
        files.update(generated or {})
        digest = hashlib.sha256()
        for name, asset in sorted(files.items()):
            digest.update(name.encode() + b"\0" + asset.body + b"\0")
        return cls(files=files, version=digest.hexdigest()[:12])

    @property
    def prefix(self) -> str:
        return f"/assets/{self.version}/"

    def get(self, name: str) -> Asset | None:
        return self.files.get(name)


def bundles(files: dict[str, Asset]) -> dict[str, Asset]:
    """BUNDLES built from the `js/` modules among `files` (a group's root ending in `/*` names a whole folder).

    Raises BundleError (bundler.py) when a module uses a form the bundler does not support."""
    sources = {name: asset.body for name, asset in files.items() if name.startswith("js/") and name.endswith(".js")}
    groups = [
        (
            group,
            tuple(
                name
                for root in roots
                for name in (
                    sorted(n for n in sources if n.startswith(root[:-1]) and "/" not in n[len(root) - 1 :])
                    if root.endswith("/*")
                    else [root]
                )
            ),
        )
        for group, roots in BUNDLES
    ]
    return {name: Asset(body, _TYPES[Path(name).suffix]) for name, body in build(sources, groups, ENTRY).items()}


def joined_styles(files: dict[str, Asset]) -> bytes:
    """STYLES concatenated in order, each part headed by its file name (no @import, no url(): nothing to rewrite)."""
    return b"\n".join(b"/* ---- " + name.encode() + b" ---- */\n" + files[name].body for name in STYLES)


def merge_catalogue(folder: Path) -> dict[str, object]:
    """One locale's catalogue: the parts in `i18n/<locale>/*.json` (one per screen area, so areas can grow
    independently) merged into one object. Raises ValueError when two parts define the same top-level key."""
    merged: dict[str, object] = {}
    for part in sorted(folder.glob("*.json")):
        data = json.loads(part.read_text(encoding="utf-8"))
        clash = set(merged) & set(data)
        if clash:
            raise ValueError(f"{part}: keys already defined by another part: {sorted(clash)}")
        merged.update(data)
    return merged


def catalogues(root: Path) -> dict[str, Asset]:
    """`i18n/<locale>.json` for every locale folder: the browser loads one file per language."""
    return {
        f"i18n/{folder.name}.json": Asset(
            json.dumps(merge_catalogue(folder), ensure_ascii=False, separators=(",", ":")).encode(), "application/json"
        )
        for folder in sorted(root.iterdir())
        if folder.is_dir()
    }
