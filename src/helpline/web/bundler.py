"""Joins the web app's ES modules into a few files at start-up: a small bundler for the module forms our code uses.

Why own code: the first load must stay within ≤ 25 requests (ui-guide §10) without Node.js on the server or a
build step. On PyPI, `esbuild` (0.1.2) only downloads esbuild's binary at run time (no network here) and
`esbuild-py` wraps esbuild's transform API alone (no bundling, one fixed option set, `distutils`); `rjsmin` and
friends only minify. What is left is small: the modules are parsed by tree-sitter's JavaScript grammar (a
maintained parser, so strings, template literals and regular expressions never fool the rewrite), and only the
module statements are rewritten. Every other byte of a module is kept, on the same line, so the output stays
readable and the source map is one mapping per line.

Supported, and nothing else (anything else raises BundleError at start-up, and `tests/web/test_bundler.py` runs
the shipped modules through it, so a new module cannot silently break the bundle):
- `import { a, b as c } from './x.js'`, `import * as ns from './x.js'`, `import './x.js'` (relative `.js` paths);
- `export function|async function|function*|class NAME`, `export const A = …, B = …`, `export { a, b as c }`;
- `import(specifier)` anywhere (any expression: resolved at run time against the importing module's URL);
- `import.meta.url` (the module's own URL, as if it were served alone).
Rejected: default imports and exports, `export let|var` (a live binding the importer could see change),
re-exports with `from`, `export *`, import attributes, other `import.meta` properties, top-level `await`, and the
names starting `__hl` (the runtime's).

Semantics kept: each module runs once, after its dependencies, in ES import order; exports are live getters, so
an import cycle sees a hoisted function at once and a `const` as soon as its module has run (like ES linking);
a dynamically imported module shares every instance (i18n, store…) with the bundle that loaded it. The output
format is documented in `bundle_runtime.js`.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

RUNTIME = (Path(__file__).parent / "bundle_runtime.js").read_text(encoding="utf-8")
RESERVED = "__hl"
BUNDLE_DIR = "bundle"  # bundles are served as `<static>/bundle/<name>.js` (+ `.map`); the first one is the entry

_DECLARATIONS = {"function_declaration", "generator_function_declaration", "class_declaration"}
_FUNCTIONS = {
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    "function",
    "generator_function",
    "arrow_function",
    "method_definition",
    "class_static_block",
}


class BundleError(ValueError):
    """A module uses a form the bundler does not support, or imports what does not exist; the message says where."""


@dataclass
class Module:
    """One parsed module: its imports in source order and the edits that turn its text into a bundle entry."""

    name: str  # e.g. "js/views/inbox.js", relative to the static folder
    source: bytes
    imports: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)  # (module, [(local, name|*)])
    exports: dict[str, str] = field(default_factory=dict)  # exported name → local name
    edits: list[tuple[int, int, bytes]] = field(default_factory=list)  # (start, end, replacement) in bytes

    @property
    def dependencies(self) -> list[str]:
        seen: dict[str, None] = {}
        for target, _ in self.imports:
            seen.setdefault(target)
        return list(seen)


@dataclass(frozen=True)
class Chunk:
    """One output file: the modules it defines and the other chunks their static imports need."""

    name: str
    modules: tuple[str, ...]
    needs: tuple[str, ...]


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_javascript.language()))


def _text(node: Node) -> str:
    return (node.text or b"").decode()


def _where(name: str, node: Node) -> str:
    return f"{name}:{node.start_point[0] + 1}"


def _specifier(name: str, node: Node | None, known: Iterable[str]) -> str:
    """The module a string literal names, relative to `name` (only './' or '../' paths to a known .js module)."""
    if node is None or node.type != "string":
        raise BundleError(f"{name}: import source is not a string literal")
    raw = _text(node)[1:-1]
    if "\\" in raw or not raw.startswith(("./", "../")) or not raw.endswith(".js"):
        raise BundleError(f"{_where(name, node)}: only relative '.js' imports are bundled, not {raw!r}")
    target = posixpath.normpath(posixpath.join(posixpath.dirname(name), raw))
    if target not in known:
        raise BundleError(f"{_where(name, node)}: imports {raw!r}, which is not a module of the app")
    return target


def _blank(source: bytes, node: Node) -> tuple[int, int, bytes]:
    """Remove a statement but keep its line breaks, so every later line keeps its number."""
    return (node.start_byte, node.end_byte, b"\n" * source[node.start_byte : node.end_byte].count(b"\n"))


def parse_module(name: str, source: bytes, known: Iterable[str]) -> Module:
    """Parse one module and plan its rewrite. Raises BundleError on a syntax error or an unsupported form."""
    known = set(known)
    tree = _parser().parse(source)
    if tree.root_node.has_error:
        raise BundleError(f"{name}: syntax error (tree-sitter could not parse it)")
    module = Module(name, source)
    for node in tree.root_node.children:
        if node.type == "import_statement":
            _import_statement(module, node, known)
        elif node.type == "export_statement":
            _export_statement(module, node)
    _walk(module, tree.root_node, in_function=False)
    module.edits.sort()
    return module


def _import_statement(module: Module, node: Node, known: set[str]) -> None:
    if any(child.type in {"import_attribute", "with"} for child in node.children):
        raise BundleError(f"{_where(module.name, node)}: import attributes are not supported")
    target = _specifier(module.name, node.child_by_field_name("source"), known)
    bindings: list[tuple[str, str]] = []
    clause = next((child for child in node.children if child.type == "import_clause"), None)
    for part in clause.named_children if clause else []:
        if part.type == "namespace_import":
            bindings.append((_text(part.named_children[-1]), "*"))
        elif part.type == "named_imports":
            for spec in part.named_children:
                if spec.type != "import_specifier":
                    continue
                imported = spec.child_by_field_name("name")
                alias = spec.child_by_field_name("alias")
                if imported is None or imported.type != "identifier":
                    raise BundleError(f"{_where(module.name, spec)}: string import names are not supported")
                bindings.append((_text(alias or imported), _text(imported)))
        else:
            raise BundleError(f"{_where(module.name, part)}: default imports are not supported")
    module.imports.append((target, bindings))
    module.edits.append(_blank(module.source, node))


def _export_statement(module: Module, node: Node) -> None:
    where = _where(module.name, node)
    if node.child_by_field_name("source") is not None or any(
        c.type in {"*", "namespace_export"} for c in node.children
    ):
        raise BundleError(f"{where}: re-exports ('export … from') are not supported; import, then export")
    if any(child.type == "default" for child in node.children):
        raise BundleError(f"{where}: default exports are not supported")
    declaration = node.child_by_field_name("declaration")
    if declaration is not None:
        if declaration.type in _DECLARATIONS:
            names = [_text(declaration.child_by_field_name("name"))]  # type: ignore[arg-type]
        elif declaration.type == "lexical_declaration" and _text(declaration.children[0]) == "const":
            names = []
            for declarator in declaration.named_children:
                target = declarator.child_by_field_name("name")
                if target is None or target.type != "identifier":
                    raise BundleError(f"{where}: destructuring exports are not supported")
                names.append(_text(target))
        else:
            raise BundleError(f"{where}: only 'export const', functions and classes (no let/var) are supported")
        for exported in names:
            _add_export(module, exported, exported, node)
        module.edits.append((node.start_byte, declaration.start_byte, b""))
        return
    clause = next((child for child in node.children if child.type == "export_clause"), None)
    if clause is None:
        raise BundleError(f"{where}: unsupported export form")
    for spec in clause.named_children:
        local = spec.child_by_field_name("name")
        alias = spec.child_by_field_name("alias")
        if local is None or local.type != "identifier" or (alias is not None and alias.type != "identifier"):
            raise BundleError(f"{where}: string export names are not supported")
        _add_export(module, _text(alias or local), _text(local), node)
    module.edits.append(_blank(module.source, node))


def _add_export(module: Module, exported: str, local: str, node: Node) -> None:
    if exported in module.exports:
        raise BundleError(f"{_where(module.name, node)}: '{exported}' is exported twice")
    module.exports[exported] = local


def _walk(module: Module, node: Node, *, in_function: bool) -> None:
    """The expressions anywhere in the module: import(), import.meta, the reserved name, top-level await."""
    kind = node.type
    if kind == "call_expression":
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type == "import":
            module.edits.append((callee.start_byte, callee.end_byte, f"{RESERVED}.load".encode()))
    elif kind == "meta_property" and _text(node).replace(" ", "") == "import.meta":
        parent = node.parent
        prop = parent.child_by_field_name("property") if parent is not None else None
        if parent is None or parent.type != "member_expression" or prop is None or _text(prop) != "url":
            raise BundleError(f"{_where(module.name, node)}: only import.meta.url is supported")
        module.edits.append((node.start_byte, node.end_byte, f"{RESERVED}.meta".encode()))
    elif kind in {"identifier", "property_identifier", "shorthand_property_identifier"} and _text(node).startswith(
        RESERVED
    ):
        raise BundleError(f"{_where(module.name, node)}: names starting '{RESERVED}' are the bundle runtime's")
    elif kind == "await_expression" and not in_function:
        raise BundleError(f"{_where(module.name, node)}: top-level await is not supported")
    elif kind == "for_in_statement" and not in_function and any(c.type == "await" for c in node.children):
        raise BundleError(f"{_where(module.name, node)}: top-level for await is not supported")
    inner = in_function or kind in _FUNCTIONS
    for child in node.children:
        _walk(module, child, in_function=inner)


def parse_all(sources: Mapping[str, bytes]) -> dict[str, Module]:
    """Every module parsed, and every named import checked against its target's exports (as ES linking does)."""
    modules = {name: parse_module(name, source, sources) for name, source in sources.items()}
    for module in modules.values():
        for target, bindings in module.imports:
            for _, imported in bindings:
                if imported != "*" and imported not in modules[target].exports:
                    raise BundleError(f"{module.name}: imports '{imported}' from {target}, which does not export it")
    return modules


def closure(modules: Mapping[str, Module], roots: Iterable[str]) -> list[str]:
    """The roots and everything they import statically, dependencies first (ES evaluation order)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in modules[name].dependencies:
            visit(dep)
        order.append(name)

    for root in roots:
        visit(root)
    return order


def plan_chunks(modules: Mapping[str, Module], groups: Sequence[tuple[str, Sequence[str]]]) -> list[Chunk]:
    """Split the modules into chunks: each group takes its roots' static closure minus what earlier groups took;
    a module no group reaches gets a chunk of its own (it can only be loaded by a dynamic import()).

    Raises BundleError when a root is not a module. The first group is the entry bundle."""
    owner: dict[str, str] = {}
    planned: list[tuple[str, list[str]]] = []
    for chunk_name, roots in groups:
        for root in roots:
            if root not in modules:
                raise BundleError(f"bundle {chunk_name!r}: no module {root}")
        members = [name for name in closure(modules, roots) if name not in owner]
        owner.update(dict.fromkeys(members, chunk_name))
        planned.append((chunk_name, members))
    for name in sorted(set(modules) - set(owner)):
        chunk_name = posixpath.splitext(name)[0].replace("/", ".")
        owner[name] = chunk_name
        planned.append((chunk_name, [name]))
    chunks = []
    for chunk_name, members in planned:
        needs = {owner[dep] for name in members for dep in modules[name].dependencies} - {chunk_name}
        chunks.append(Chunk(chunk_name, tuple(members), tuple(sorted(needs))))
    return chunks


def _rewrite(module: Module) -> bytes:
    out = bytearray()
    at = 0
    for start, end, replacement in module.edits:
        if start < at:
            raise BundleError(f"{module.name}: overlapping rewrites at byte {start}")
        out += module.source[at:start] + replacement
        at = end
    out += module.source[at:]
    return bytes(out)


def _prologue(module: Module) -> str:
    """One line: the import bindings as variables with their setters, and the exports as getters."""
    imports = []
    names: list[str] = []
    for target, bindings in module.imports:
        setters = ", ".join(
            f"(m) => ({local} = m)" if imported == "*" else f"(m) => ({local} = m.{imported})"
            for local, imported in bindings
        )
        names += [local for local, _ in bindings]
        imports.append(f"[{json.dumps(target)}, [{setters}]]")
    declare = f"let {', '.join(names)}; " if names else ""
    exports = ", ".join(f"{exported}: () => {local}" for exported, local in module.exports.items())
    return (
        f"{RESERVED}Define({json.dumps(module.name)}, function* ({RESERVED}) {{ {declare}"
        f"{RESERVED}.link([{', '.join(imports)}], {{ {exports} }}); yield;"
    )


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _vlq(value: int) -> str:
    """One Base64 VLQ number (source map v3)."""
    rest = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit = rest & 31
        rest >>= 5
        out += _B64[digit | (32 if rest else 0)]
        if not rest:
            return out


@dataclass
class _Output:
    lines: list[str] = field(default_factory=list)
    mappings: list[str] = field(default_factory=list)  # one per output line, "" when the line maps nowhere
    sources: list[str] = field(default_factory=list)
    last: tuple[int, int] = (0, 0)  # (source index, original line) of the previous segment

    def add(self, text: str, source: int | None = None, line: int = 0) -> None:
        for offset, part in enumerate(text.split("\n")):
            self.lines.append(part)
            if source is None:
                self.mappings.append("")
                continue
            here = (source, line + offset)
            self.mappings.append("A" + _vlq(here[0] - self.last[0]) + _vlq(here[1] - self.last[1]) + "A")
            self.last = here


def _manifest(chunks: Sequence[Chunk]) -> str:
    where = {module: chunk.name for chunk in chunks for module in chunk.modules}
    needs = {chunk.name: list(chunk.needs) for chunk in chunks if chunk.needs}
    return f"const CHUNK_OF = {json.dumps(where, sort_keys=True)};\nconst NEEDS = {json.dumps(needs, sort_keys=True)};"


def build(sources: Mapping[str, bytes], groups: Sequence[tuple[str, Sequence[str]]], entry: str) -> dict[str, bytes]:
    """The bundle files: `bundle/<chunk>.js` and its `.map` per chunk; the first group's file starts `entry`.

    `sources` maps each module's path under the static folder ("js/app.js") to its bytes. Raises BundleError
    (see the module docstring for the forms supported)."""
    modules = parse_all(sources)
    if entry not in modules:
        raise BundleError(f"entry module {entry} does not exist")
    chunks = plan_chunks(modules, groups)
    if entry not in chunks[0].modules:
        raise BundleError(f"entry module {entry} is not in the first bundle")
    files: dict[str, bytes] = {}
    for index, chunk in enumerate(chunks):
        out = _Output()
        out.add(f"// Helpline web app, bundle '{chunk.name}': {len(chunk.modules)} modules (helpline/web/bundler.py).")
        if index == 0:
            out.add(RUNTIME.replace("/*MANIFEST*/", _manifest(chunks)).rstrip("\n"))
        else:
            out.add(f'import {{ {RESERVED}Define }} from "./{chunks[0].name}.js";')
        for name in chunk.modules:
            module = modules[name]
            source_index = len(out.sources)
            out.sources.append(posixpath.relpath(name, BUNDLE_DIR))
            out.add(f"// ---- {name} ----")
            out.add(_prologue(module), source_index, 0)
            body = _rewrite(module).decode().removesuffix("\n")  # the file's last line break; "});" follows
            out.add(body, source_index, 0)
            out.add("});")
        if index == 0:
            out.add(f"{RESERVED}Start({json.dumps(entry)});")
        base = f"{BUNDLE_DIR}/{chunk.name}.js"
        out.add(f"//# sourceMappingURL={chunk.name}.js.map")
        files[base] = ("\n".join(out.lines) + "\n").encode()
        source_map = {
            "version": 3,
            "file": f"{chunk.name}.js",
            "sources": out.sources,
            "names": [],
            "mappings": ";".join(out.mappings),
        }
        files[f"{base}.map"] = json.dumps(source_map, separators=(",", ":")).encode()
    return files
