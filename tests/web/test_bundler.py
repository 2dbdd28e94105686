"""The web app's bundler: the shipped modules bundle, every unsupported module form is refused, the source map holds."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from helpline.web.assets import BUNDLES, ENTRY, ENTRY_BUNDLE, PRELOAD, STATIC_DIR, AssetBundle
from helpline.web.bundler import BUNDLE_DIR, RESERVED, BundleError, build, parse_all, plan_chunks
from helpline.web.pages import bundle, shell_html

SHIPPED = {p.relative_to(STATIC_DIR).as_posix(): p.read_bytes() for p in sorted((STATIC_DIR / "js").rglob("*.js"))}


def test_every_shipped_module_uses_only_supported_forms_and_lands_in_one_bundle() -> None:
    """Fails when a new module uses an import/export form the bundler does not support (the error names it)."""
    modules = parse_all(SHIPPED)
    assets = bundle()
    owners: dict[str, str] = {}
    for name, asset in assets.files.items():
        if name.startswith(f"{BUNDLE_DIR}/") and name.endswith(".js"):
            for module in re.findall(rf'^{RESERVED}Define\("([^"]+)"', asset.body.decode(), re.M):
                assert module not in owners, f"{module} is in two bundles"
                owners[module] = name
    assert set(owners) == set(modules)
    assert owners[ENTRY] == ENTRY_BUNDLE


def test_the_first_screen_needs_no_second_bundle() -> None:
    """The inbox, a conversation and the 404 screen come with the entry bundle: no extra request at first load."""
    modules = parse_all(SHIPPED)
    first = plan_chunks(modules, [(name, roots) for name, roots in BUNDLES if not roots[0].endswith("*")])[0]
    assert set(PRELOAD) <= set(first.modules)
    assert {"js/views/conversation.js", "js/views/missing.js"} <= set(first.modules)


def _one(source: str, **others: str) -> dict[str, bytes]:
    files = {"js/a.js": source.encode(), **{f"js/{k}.js": v.encode() for k, v in others.items()}}
    return build(files, [("main", ["js/a.js"])], "js/a.js")


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("import b from './b.js';", "default imports"),
        ("import b, { x } from './b.js';", "default imports"),
        ("export default 1;", "default exports"),
        ("export let x = 1;", "no let/var"),
        ("export var x = 1;", "no let/var"),
        ("export const { x } = {};", "destructuring"),
        ("export { x } from './b.js';", "re-exports"),
        ("export * from './b.js';", "re-exports"),
        ("export * as b from './b.js';", "re-exports"),
        ("import { x } from 'https://cdn.example/b.js';", "only relative '.js' imports"),
        ("import { x } from './b';", "only relative '.js' imports"),
        ("import { x } from './missing.js';", "not a module of the app"),
        ("import { nope } from './b.js';", "does not export it"),
        ("import data from './b.json' with { type: 'json' };", "import attributes"),
        ("console.log(import.meta.resolve('./b.js'));", "only import.meta.url"),
        ("const m = import.meta;", "only import.meta.url"),
        ("await Promise.resolve();", "top-level await"),
        ("const __hlDefine = 1;", "runtime's"),
        ("function f( {", "syntax error"),
        ("const x = 1; export { x }; export { x };", "exported twice"),
    ],
)
def test_unsupported_forms_are_refused_with_the_reason(source: str, why: str) -> None:
    with pytest.raises(BundleError, match=re.escape(why)):
        _one(source, b="export const x = 1;")


def test_supported_forms_are_rewritten_in_place_keeping_every_line() -> None:
    source = (
        "// a comment: import { fake } from './nowhere.js'\n"
        "import {\n  x,\n  y as why,\n} from './b.js';\n"
        "import * as ns from './b.js';\n"
        "import './b.js';\n"
        "const text = `export default ${x} import('./c.js')`;\n"
        "export const A = 1, B = /import .*/;\n"
        "export function f() { return import('./c.js'); }\n"
        "export async function g() { await null; return import.meta.url; }\n"
        "export class C {}\n"
        "const local = 2;\n"
        "export { local as renamed, why };\n"
    )
    files = _one(source, b="export const x = 1, y = 2;", c="export function c() {}")
    out = files["bundle/main.js"].decode().split("\n")
    start = out.index("// ---- js/a.js ----") + 2
    body = out[start : start + source.count("\n")]
    assert body[0] == "// a comment: import { fake } from './nowhere.js'"
    assert body[1:7] == ["", "", "", "", "", ""], "import statements become blank lines"
    assert body[7] == "const text = `export default ${x} import('./c.js')`;", "strings are never rewritten"
    assert body[8] == "const A = 1, B = /import .*/;"
    assert body[9] == f"function f() {{ return {RESERVED}.load('./c.js'); }}"
    assert body[10] == f"async function g() {{ await null; return {RESERVED}.meta.url; }}"
    assert body[11] == "class C {}"
    assert body[12] == "const local = 2;"
    assert body[13] == ""
    prologue = out[start - 1]
    assert "let x, why, ns;" in prologue and "(m) => (why = m.y)" in prologue and "(m) => (ns = m)" in prologue
    assert "renamed: () => local" in prologue and "why: () => why" in prologue


def test_source_map_points_each_line_at_its_module_line() -> None:
    assets = AssetBundle.load()
    for name, asset in assets.files.items():
        if not (name.startswith(f"{BUNDLE_DIR}/") and name.endswith(".js")):
            continue
        lines = asset.body.decode().split("\n")
        assert lines[-2] == f"//# sourceMappingURL={name.rsplit('/', 1)[1]}.map"
        source_map = json.loads(assets.files[f"{name}.map"].body)
        assert source_map["version"] == 3
        mappings = source_map["mappings"].split(";")
        assert len(mappings) == len(lines) - 1
        source, line, checked = 0, 0, 0
        for number, segment in enumerate(mappings):
            if not segment:
                continue
            ds, dl = _decode(segment)[1:3]
            source, line = source + ds, line + dl
            original = (STATIC_DIR / BUNDLE_DIR / source_map["sources"][source]).resolve()
            assert original.is_file()
            text = original.read_text(encoding="utf-8").split("\n")[line]
            generated = lines[number]
            if generated.startswith(f"{RESERVED}Define(") or not generated:
                continue  # the prologue (mapped to the module's first line), or a line of an import statement
            if not re.match(r"\s*(import|export)\b", text) and "import(" not in text and "import.meta" not in text:
                assert generated == text, f"{name}:{number + 1} ≠ {original.name}:{line + 1}"
                checked += 1
        assert checked > 0


def _decode(segment: str) -> list[int]:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    values, shift, value = [], 0, 0
    for char in segment:
        digit = alphabet.index(char)
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        shift, value = 0, 0
    return values


def test_runtime_has_no_eval_and_the_bundles_fit_the_budget() -> None:
    import gzip

    assets = bundle()
    for name, asset in assets.files.items():
        if name.startswith(f"{BUNDLE_DIR}/") and name.endswith(".js"):
            text = asset.body.decode()
            assert not re.search(r"\beval\(|new Function\(|\.innerHTML\b", text), name
    # ui-guide §10: first-party JS ≤ 150 KB gzip on first load; the entry bundle is all of it for the inbox.
    assert len(gzip.compress(assets.files[ENTRY_BUNDLE].body, 6)) < 150_000


def test_shell_names_one_script_when_bundled_and_every_module_when_not() -> None:
    assets = bundle()
    bundled = shell_html(assets, bundled=True)
    assert bundled.count("<script") == 1 and f'src="{assets.prefix}{ENTRY_BUNDLE}"' in bundled
    assert "modulepreload" not in bundled
    unbundled = shell_html(assets, bundled=False)
    assert f'src="{assets.prefix}{ENTRY}"' in unbundled
    assert unbundled.count('rel="modulepreload"') == len(PRELOAD)


async def test_bundles_and_their_maps_are_served_with_long_caching(client: httpx.AsyncClient) -> None:
    for name in (ENTRY_BUNDLE, f"{ENTRY_BUNDLE}.map"):
        response = await client.get(f"{bundle().prefix}{name}")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        expected = "application/json" if name.endswith(".map") else "text/javascript"
        assert response.headers["content-type"].startswith(expected)
