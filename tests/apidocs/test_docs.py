"""/docs, /redoc and /openapi.json: same-origin assets, no inline script, and every `$ref` resolvable."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from helpline.apidocs.openapi import OpenAPIConflict, lift_embedded_defs
from helpline.app import create_app
from tests.conftest import make_settings


@pytest.fixture
async def docs_client(tmp_path: Path) -> Any:
    # The documentation needs no database rows; the app is never started, so no migration runs either.
    app = create_app(make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/docs.db"), migrate=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def _refs(node: Any, path: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.append((path, value))
            else:
                found.extend(_refs(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_refs(value, f"{path}/{index}"))
    return found


def _resolves(document: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False  # no external documents: the viewers must not fetch anything else
    node: Any = document
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


async def test_every_ref_in_the_openapi_document_resolves(docs_client: httpx.AsyncClient) -> None:
    document = (await docs_client.get("/openapi.json")).json()
    refs = _refs(document)
    assert len(refs) > 100  # the walk really visits the document
    dangling = [(where, ref) for where, ref in refs if not _resolves(document, ref)]
    assert dangling == []
    assert "$defs" not in str(document)
    reply = document["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    template = reply["requestBody"]["content"]["application/json"]["schema"]["properties"]["template"]
    assert {"$ref": "#/components/schemas/TemplateSend"} in template["anyOf"]
    assert "parameters" in document["components"]["schemas"]["TemplateSend"]["properties"]
    assert "TemplateParameter" in document["components"]["schemas"]


def test_lifting_merges_equal_definitions_and_refuses_different_ones() -> None:
    embedded = {"$defs": {"Leaf": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/Leaf"}}}
    document: dict[str, Any] = {
        "paths": {"/a": {"post": {"schema": embedded}}, "/b": {"post": {"schema": embedded}}},
        "components": {"schemas": {"Other": {"type": "integer"}}},
    }
    lifted = lift_embedded_defs(document)
    assert lifted["components"]["schemas"] == {"Other": {"type": "integer"}, "Leaf": {"type": "string"}}
    assert lifted["paths"]["/a"]["post"]["schema"] == {"properties": {"x": {"$ref": "#/components/schemas/Leaf"}}}
    clash = {"paths": {"/a": {"post": {"schema": embedded}}}, "components": {"schemas": {"Leaf": {"type": "object"}}}}
    with pytest.raises(OpenAPIConflict, match="Leaf"):
        lift_embedded_defs(clash)


class _Assets(HTMLParser):
    """Every URL a page loads or links to, and the bodies of its <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[tuple[str | None, str]] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "data-openapi-url"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if tag == "script":
            self._in_script = True
            self.scripts.append((values.get("src"), ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            src, body = self.scripts[-1]
            self.scripts[-1] = (src, body + data)


@pytest.mark.parametrize(("page", "bundle"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
async def test_docs_pages_load_only_same_origin_assets_without_inline_script(
    docs_client: httpx.AsyncClient, page: str, bundle: str
) -> None:
    response = await docs_client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    parser = _Assets()
    parser.feed(response.text)
    assert parser.urls, "the page references its assets"
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        fetched = await docs_client.get(url)
        assert fetched.status_code == 200, url
    assert any(url.endswith(bundle) for url in parser.urls)
    assert parser.scripts and all(src and not body.strip() for src, body in parser.scripts)
    assert "cdn" not in response.text.lower()
    header = response.headers["content-security-policy"]
    policy = {name: value for name, _, value in (directive.partition(" ") for directive in header.split("; "))}
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in header


async def test_docs_assets_have_script_and_style_types(docs_client: httpx.AsyncClient) -> None:
    js = await docs_client.get("/docs/static/swagger-init.js")
    assert "javascript" in js.headers["content-type"]
    assert "SwaggerUIBundle(" in js.text
    css = await docs_client.get("/docs/vendor/swagger-ui.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (await docs_client.get("/docs/vendor/../../app.py")).status_code == 404
