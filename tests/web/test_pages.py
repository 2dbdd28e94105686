"""The web app's shell, assets and security headers; static checks over its modules and catalogues."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from helpline.platform.headers import STRICT_CSP
from helpline.web.assets import STATIC_DIR, STYLES, merge_catalogue
from helpline.web.icons import CHANNEL_MARKS, LUCIDE_ICONS
from helpline.web.pages import bundle
from tests.conftest import World, login

JS_FILES = sorted(STATIC_DIR.rglob("*.js"))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("path", ["/", "/login", "/conversations/42", "/admin", "/admin/channels/3", "/preferences"])
async def test_every_screen_url_serves_the_shell_under_a_strict_csp(
    client: httpx.AsyncClient, world: World, path: str
) -> None:
    if path != "/login":
        await login(client, world.agent.email)
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert csp == STRICT_CSP
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-cache"
    parser = _Tags()
    parser.feed(response.text)
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts and all(attrs.get("src") for attrs in scripts), "no inline script"
    assert not any("style" in attrs for _, attrs in parser.tags), "no inline style attribute"


async def test_shell_assets_load_with_their_types_and_long_caching(client: httpx.AsyncClient) -> None:
    parser = _Tags()
    parser.feed((await client.get("/login")).text)
    urls = [a.get("href") or a.get("src") for tag, a in parser.tags if tag in {"link", "script"}]
    # one stylesheet (the parts joined), the favicon and the entry bundle (the modules joined: test_bundler.py)
    assert len(urls) == 3
    (sheet,) = [url for url in urls if url and url.endswith(".css")]
    joined = (await client.get(sheet)).text
    positions = [joined.index((STATIC_DIR / name).read_text(encoding="utf-8")) for name in STYLES]
    assert positions == sorted(positions), "every part, whole and in cascade order"
    for url in urls:
        assert url and url.startswith(bundle().prefix)
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        expected = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}[url.rsplit(".", 1)[1]]
        assert response.headers["content-type"].startswith(expected)


async def test_unknown_asset_is_404_and_an_old_version_is_served_uncached(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{bundle().prefix}js/nope.js")).status_code == 404
    assert (await client.get(f"{bundle().prefix}../../etc/passwd")).status_code == 404
    old = await client.get("/assets/000000000000/js/app.js")
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"


async def test_json_responses_carry_nosniff_but_no_page_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def test_sprite_holds_every_icon_the_modules_use() -> None:
    sprite = bundle().get("icons.svg")
    assert sprite is not None
    ids = set(re.findall(r'<symbol id="([^"]+)"', sprite.body.decode()))
    assert ids == set(LUCIDE_ICONS) | set(CHANNEL_MARKS)
    used = {name for path in JS_FILES for name in re.findall(r"\bicon\('([a-z0-9-]+)'", path.read_text())}
    assert used <= ids, f"icons missing from the sprite: {sorted(used - ids)}"


def test_relative_imports_resolve() -> None:
    for path in JS_FILES:
        for target in re.findall(r"""(?:from|import)\s*\(?\s*'(\.{1,2}/[^']+)'""", path.read_text()):
            assert (path.parent / target).resolve().is_file(), f"{path.name} imports missing {target}"


def test_no_html_string_sinks_in_the_web_app() -> None:
    """Customer strings must only ever reach the DOM as text: no HTML parsing sinks, no eval."""
    sinks = re.compile(r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(")
    offenders = [f"{p.relative_to(STATIC_DIR)}:{m.group(0)}" for p in JS_FILES for m in sinks.finditer(p.read_text())]
    assert not offenders


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not ({"one", "other"} & set(value)):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _placeholders(value: Any) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    en = _flatten(merge_catalogue(STATIC_DIR / "i18n/en"))
    pt = _flatten(merge_catalogue(STATIC_DIR / "i18n/pt-BR"))
    assert set(en) == set(pt), f"only in en: {sorted(set(en) - set(pt))}; only in pt-BR: {sorted(set(pt) - set(en))}"
    for key in en:
        assert _placeholders(en[key]) == _placeholders(pt[key]), key
        if isinstance(en[key], dict):
            assert {"one", "other"} <= set(en[key]) and {"one", "other"} <= set(pt[key]), key


async def test_each_locale_is_served_as_one_catalogue(client: httpx.AsyncClient) -> None:
    for locale in ("en", "pt-BR"):
        response = await client.get(f"{bundle().prefix}i18n/{locale}.json")
        assert response.status_code == 200
        assert response.json() == merge_catalogue(STATIC_DIR / f"i18n/{locale}")
    assert (await client.get(f"{bundle().prefix}i18n/en/core.json")).status_code == 404


def test_every_literal_key_the_modules_translate_exists() -> None:
    en = _flatten(merge_catalogue(STATIC_DIR / "i18n/en"))
    groups = {key.rsplit(".", 1)[0] for key in en}
    used = {key for path in JS_FILES for key in re.findall(r"\bt\('([a-z0-9_.-]+)'", path.read_text())}
    missing = sorted(key for key in used if key not in en and key not in groups)
    assert not missing, f"keys used but not in en.json: {missing}"


async def test_an_unknown_address_gives_a_browser_a_localised_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nonexistent", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert '<html lang="en">' in response.text and "This page doesn&#x27;t exist" in response.text
    parser = _Tags()
    parser.feed(response.text)
    assert ("a", {"class": "button primary", "href": "/"}) in parser.tags, "a link back to the inbox"
    assert not any(tag == "script" for tag, _ in parser.tags)
    assert not any("style" in attrs for _, attrs in parser.tags)

    portuguese = await client.get("/x/y", headers={"Accept": "text/html", "Accept-Language": "pt-PT,pt;q=0.9"})
    assert portuguese.status_code == 404
    assert '<html lang="pt-BR">' in portuguese.text and "Esta página não existe" in portuguese.text
    assert "Voltar à caixa de entrada" in portuguese.text


@pytest.mark.parametrize(
    ("path", "accept"),
    [("/api/v1/nonexistent", "text/html"), ("/nonexistent", "application/json"), ("/nonexistent", "*/*")],
)
async def test_the_api_and_non_browser_clients_keep_the_json_404(
    client: httpx.AsyncClient, path: str, accept: str
) -> None:
    response = await client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_the_login_page_sends_a_logged_in_operator_on_and_serves_others_the_form(
    client: httpx.AsyncClient, world: World
) -> None:
    # The page itself no longer probes /auth/me (its 401 lands in the browser console): the server decides.
    assert (await client.get("/login?next=/preferences")).status_code == 200
    await login(client, world.agent.email)  # sets the session cookie on this client
    for target, expected in (("/preferences", "/preferences"), ("//evil.example/x", "/"), ("/\\evil.example", "/")):
        response = await client.get("/login", params={"next": target})
        assert response.status_code == 303
        assert response.headers["location"] == expected
    assert (await client.get("/login")).headers["location"] == "/"


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/", "/login"),
        ("/preferences", "/login?next=%2Fpreferences"),
        ("/admin/channels?x=1", "/login?next=%2Fadmin%2Fchannels%3Fx%3D1"),
        ("/conversations/42", "/login?next=%2Fconversations%2F42"),
    ],
)
async def test_a_logged_out_visitor_of_a_screen_is_sent_to_the_login_page_by_the_server(
    client: httpx.AsyncClient, path: str, location: str
) -> None:
    # Not by the page probing /auth/me: the browser would log that 401 as a console error.
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == location


async def test_the_favicon_is_served_at_the_root_for_every_page_without_its_own(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.content == (STATIC_DIR / "img" / "favicon.svg").read_bytes()


def test_every_escalation_reason_the_backend_records_has_a_label_in_every_catalogue() -> None:
    from pathlib import Path

    from helpline.bot import escalation

    source = Path(escalation.__file__).parents[1]
    # Every Trigger(...) the backend builds names its reason by one of escalation.py's constants.
    built = {
        name
        for path in source.rglob("*.py")
        for name in re.findall(r"\bTrigger\(\s*([A-Za-z_.]+)", path.read_text(encoding="utf-8"))
        if name != "reason"  # the dataclass's own field, in its definition
    }
    assert built, "the scan found no Trigger(...) calls"
    for name in built:
        value = getattr(escalation, name.rsplit(".", 1)[-1], None)
        assert value in escalation.REASONS, f"Trigger({name}) is not a reason listed in bot/escalation.py REASONS"
    for folder in sorted((STATIC_DIR / "i18n").iterdir()):
        catalogue = merge_catalogue(folder)
        labels: Any = catalogue["escalation"]
        tried: Any = catalogue["admin"]["try"]["reasons"]  # type: ignore[index]
        for reason in escalation.REASONS:
            assert isinstance(labels.get(reason), str) and labels[reason].strip(), f"{folder.name}: escalation.{reason}"
            assert isinstance(tried.get(reason), str) and tried[reason].strip(), f"{folder.name}: try.reasons.{reason}"


def test_every_matching_method_the_bot_panel_may_show_has_a_label() -> None:
    from helpline.bot.matching import registry

    methods = {registry.LEXICAL, registry.USE_METHOD, registry.MINILM_METHOD, "clarified", "menu", "running"}
    for folder in sorted((STATIC_DIR / "i18n").iterdir()):
        labels: Any = merge_catalogue(folder)["bot"]["methods"]  # type: ignore[index]
        missing = {m for m in methods if not (isinstance(labels.get(m), str) and labels[m].strip())}
        assert not missing, f"{folder.name}: bot.methods lacks {sorted(missing)}"


def _js_list(name: str) -> list[str]:
    """The string items of `export const NAME = [...]` in filters.js."""
    source = (STATIC_DIR / "js/filters.js").read_text(encoding="utf-8")
    found = re.search(rf"export const {name} = \[([^\]]*)\]", source)
    assert found, name
    return re.findall(r"'([a-z_]+)'", found.group(1))


def test_every_computed_key_the_modules_translate_exists_for_every_value_it_can_take() -> None:
    """Keys built at run time (`t(\\`status.${code}\\`)`): each prefix exists, and each code the app or the server
    can put there has its entry in both catalogues — a missing one would show the raw key ("status.bogus")."""
    from helpline.channels.registry import ADAPTERS
    from helpline.conversations.models import Status

    source = "\n".join(path.read_text(encoding="utf-8") for path in JS_FILES)
    prefixes = set(re.findall(r"\bt\(`([a-z0-9_.-]+)\$\{", source))
    assert {"status.", "kinds.", "window.", "presets.", "filters."} <= prefixes
    vocabularies = {
        "status.": {s.value for s in Status} | set(_js_list("STATUSES")),
        "kinds.": set(ADAPTERS) | set(_js_list("KINDS")),
        "window.": set(_js_list("WINDOWS")),
        "presets.": set(re.findall(r"\{ id: '([a-z_]+)'", (STATIC_DIR / "js/filters.js").read_text())),
        "filters.": set(_js_list("FILTER_KEYS")),
        "filters.sort_": {"recent", "waiting"},
        "handler.": {"bot", "human"},
    }
    for folder in sorted((STATIC_DIR / "i18n").iterdir()):
        flat = _flatten(merge_catalogue(folder))
        for prefix in sorted(prefixes):
            assert any(key.startswith(prefix) for key in flat), f"{folder.name}: nothing under {prefix}"
        for prefix, codes in vocabularies.items():
            missing = sorted(code for code in codes if f"{prefix}{code}" not in flat)
            assert not missing, f"{folder.name}: {prefix}… lacks {missing}"


def test_the_sidebar_filters_by_every_channel_kind_helpline_has_each_with_a_glyph_and_its_colour() -> None:
    """Every registered channel kind (the website widget too) is a kind filter, with its own glyph and colour class;
    and the sidebar offers no kind that no channel can have (its filter would always be empty)."""
    from helpline.channels.registry import ADAPTERS

    assert set(_js_list("KINDS")) == set(ADAPTERS)
    glyph_source = (STATIC_DIR / "js/views/channels.js").read_text(encoding="utf-8")
    glyphs = re.search(r"const GLYPHS = \{([^}]*)\}", glyph_source)
    assert glyphs
    mapped = set(re.findall(r"\b([a-z_]+): '", glyphs.group(1)))
    css = (STATIC_DIR / "css/app.css").read_text(encoding="utf-8")
    for kind in ADAPTERS:
        assert kind in mapped, f"no glyph for {kind}"
        assert f".channel-glyph.ch-{kind} {{ color:" in css, f"no colour for {kind}"
    sidebar = (STATIC_DIR / "js/views/sidebar.js").read_text(encoding="utf-8")
    assert re.search(r"checkGroup\('kind'.*channelIcon", sidebar), "the kind filter shows each kind's glyph"


def _request_field_names(document: dict[str, Any]) -> set[str]:
    """Every property name a request body may hold (nested too) and every query parameter, from the OpenAPI document."""
    schemas = document["components"]["schemas"]
    names: set[str] = set()

    def walk(schema: Any, seen: set[str]) -> None:
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(schemas[name], seen)
            return
        for key, value in (schema.get("properties") or {}).items():
            names.add(key)
            walk(value, seen)
        for key in ("items", "additionalProperties"):
            walk(schema.get(key), seen)
        for key in ("anyOf", "oneOf", "allOf"):
            for part in schema.get(key) or []:
                walk(part, seen)

    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for content in (operation.get("requestBody") or {}).get("content", {}).values():
                walk(content.get("schema"), set())
            names |= {p["name"] for p in operation.get("parameters", []) if p["in"] == "query" and "." not in p["name"]}
    return names


async def test_every_field_the_api_can_refuse_has_a_name_and_every_reason_a_sentence_in_every_catalogue(
    client: httpx.AsyncClient,
) -> None:
    """A 422's problems are said in the operator's language (js/problems.js): the field by its catalogue name, the
    reason by its catalogue sentence — an English field name or pydantic's English would otherwise show."""
    fields = _request_field_names((await client.get("/openapi.json")).json())
    assert {"name", "email", "password", "text", "steps", "question"} <= fields
    source = (STATIC_DIR / "js/problems.js").read_text(encoding="utf-8")
    reasons = set(re.findall(r": '([a-z_]+)'", re.search(r"const REASONS = \{(.*?)\};", source, re.S).group(1)))  # type: ignore[union-attr]
    assert {"missing", "text_max", "choice", "invalid"} <= reasons
    for folder in sorted((STATIC_DIR / "i18n").iterdir()):
        flat = _flatten(merge_catalogue(folder))
        missing_fields = sorted(name for name in fields | {"body"} if f"validation.fields.{name}" not in flat)
        assert not missing_fields, f"{folder.name}: validation.fields lacks {missing_fields}"
        missing_reasons = sorted(
            r for r in reasons | {"invalid"} if not any(k.startswith(f"validation.types.{r}") for k in flat)
        )
        assert not missing_reasons, f"{folder.name}: validation.types lacks {missing_reasons}"


# Error codes that never reach the operator app: the generic ones keep the server's specific words; the others
# answer webhooks, the widget's visitor API (which has its own strings), provider callbacks, or API clients.
_NOT_FOR_OPERATORS = {
    "bad_request", "invalid", "conflict", "forbidden", "not_found", "unauthorized", "too_many_requests", "unavailable",
    "template_invalid", "bad_signature", "bad_payload", "bad_signed_request", "bad_verify_token", "bad_origin",
    "channel_disabled", "not_configured", "bad_cursor", "pre_chat_required", "empty_message", "empty_file",
    "text_too_long", "attachment_too_large", "bot_paused",
}  # fmt: skip


def _domain_error_codes() -> set[str]:
    """Every stable code a HelplineError is raised with (`code="…"`) or a subclass declares (`code = "…"`)."""
    source = STATIC_DIR.parents[1]
    raised = r"\b(?:Invalid|Conflict|Forbidden|Unauthorized|NotFound|TooLarge|ReplyNotAllowed|TemplateInvalid)\("
    codes: set[str] = set()
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for found in re.finditer(raised + r"(?:[^()]|\([^()]*\))*?code=\"([a-z_]+)\"", text, re.S):
            codes.add(found.group(1))
        codes |= set(re.findall(r"^    code = \"([a-z_]+)\"$", text, re.M))
    return codes


def test_every_domain_error_an_operator_can_meet_has_a_sentence_in_every_catalogue() -> None:
    codes = _domain_error_codes() - _NOT_FOR_OPERATORS
    assert {
        "duplicate_email",
        "reply_window_closed",
        "empty_reply",
        "attachment_type_mismatch",
        "reopen_first",
    } <= codes
    for folder in sorted((STATIC_DIR / "i18n").iterdir()):
        flat = _flatten(merge_catalogue(folder))
        missing = sorted(code for code in codes if f"api_error.{code}" not in flat)
        assert not missing, f"{folder.name}: api_error lacks {missing}"


def test_every_audit_action_the_backend_records_has_a_label_in_every_catalogue() -> None:
    """The audit screen names each action in words (admin.audit.actions.<action with _>), never "auth.login"."""
    source = STATIC_DIR.parents[1]
    actions: set[str] = set()
    for path in source.rglob("*.py"):
        if path.parts[-2] == "bot":  # the bot's console names its outcomes "action" too; no audit entries
            continue
        text = path.read_text(encoding="utf-8")
        actions |= set(re.findall(r'\baction="([a-z_]+\.[a-z_.]+)"', text))
        actions |= set(re.findall(r'_audit\([^"]*"([a-z_]+\.[a-z_.]+)"', text))
        for suffix in re.findall(r'action=f"\{kind\}\.([a-z_]+)"', text):
            actions |= {f"profile.{suffix}", f"event.{suffix}"}
    assert {"auth.login", "channel.created", "privacy.exported", "profile.logo_changed"} <= actions
    for folder in sorted((STATIC_DIR / "i18n").iterdir()):
        labels: Any = merge_catalogue(folder)["admin"]["audit"]["actions"]  # type: ignore[index]
        missing = sorted(a for a in actions if a.replace(".", "_") not in labels)
        assert not missing, f"{folder.name}: admin.audit.actions lacks {missing}"


def test_every_detail_an_audit_entry_records_has_a_label_in_every_catalogue() -> None:
    """The audit screen's details line names each key in words (admin.audit.details.<key>), e.g. "tipo: WhatsApp"."""
    source = STATIC_DIR.parents[1]
    keys: set[str] = set()
    call = r"\brecord\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)"
    for path in source.rglob("*.py"):
        if path.parts[-2] == "bot":
            continue
        text = path.read_text(encoding="utf-8")
        for found in re.finditer(call, text, re.S):
            details = re.search(r"details=\{(.*)\}", found.group(0), re.S)
            if details:
                keys |= set(re.findall(r'"([a-z_]+)":', details.group(1)))
        for found in re.finditer(r"_audit\((.*?)\)\n", text, re.S):
            keys |= set(re.findall(r"\b([a-z_]+)=", found.group(1)))
    keys -= {"ge", "le", "action", "details", "target_id", "target_type"}  # bounds and record()'s own arguments
    assert {"kind", "fields", "merged_contact_id", "method"} <= keys
    for folder in sorted((STATIC_DIR / "i18n").iterdir()):
        labels: Any = merge_catalogue(folder)["admin"]["audit"]["details"]  # type: ignore[index]
        missing = sorted(key for key in keys if key not in labels)
        assert not missing, f"{folder.name}: admin.audit.details lacks {missing}"
