"""The OpenAPI document with every `$ref` resolvable: JSON-Schema `$defs` embedded by routes are lifted into components.

A route's `openapi_extra` may embed a Pydantic `model_json_schema()`, whose nested models are `$defs` of that
schema referenced as `#/$defs/Name`. Inside an OpenAPI document `#` is the document's root, so those references
point nowhere and viewers such as ReDoc fail on them. Lifting each embedded `$defs` entry into
`components/schemas` and rewriting the references keeps route code free to embed model schemas.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

LOCAL_DEFS = "#/$defs/"
COMPONENTS = "#/components/schemas/"


class OpenAPIConflict(RuntimeError):
    """Two different schemas want the same component name."""


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                COMPONENTS + value.removeprefix(LOCAL_DEFS)
                if key == "$ref" and isinstance(value, str) and value.startswith(LOCAL_DEFS)
                else _rewrite(value)
            )
            for key, value in node.items()
            if key != "$defs"
        }
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    return node


def _collect(node: Any, found: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for name, schema in (node.get("$defs") or {}).items():
            lifted = _rewrite(schema)
            if name in found and found[name] != lifted:
                raise OpenAPIConflict(f"two different embedded schemas are both called {name!r}")
            found[name] = lifted
            _collect(schema, found)
        for key, value in node.items():
            if key != "$defs":
                _collect(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect(item, found)


def lift_embedded_defs(document: dict[str, Any]) -> dict[str, Any]:
    """Return `document` with embedded `$defs` moved to `components/schemas` and `#/$defs/X` rewritten.

    An embedded definition equal to an existing component (after rewriting) is merged silently; a different
    one with the same name raises `OpenAPIConflict`, since one of the two routes would be documented wrongly.
    """
    found: dict[str, Any] = {}
    _collect(document.get("paths", {}), found)
    if not found:
        return document
    result: dict[str, Any] = _rewrite(document)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in found.items():
        existing = schemas.get(name)
        if existing is not None and existing != schema:
            raise OpenAPIConflict(f"embedded schema {name!r} differs from the component of that name")
        schemas[name] = schema
    return result


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json`) return the lifted document, built once and cached."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = lift_embedded_defs(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
