"""The bundle's runtime in Chromium: a set of modules behaves the same bundled as served one by one (native ES)."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Browser, Route

from helpline.web.bundler import build

ORIGIN = "http://bundle.test"

# Evaluation order, namespace identity, live exports through an import cycle, a lazily imported module sharing
# the entry's instances, import.meta.url, a failing module and a missing one.
MODULES = {
    "js/log.js": "export const order = [];\nexport function note(name) { order.push(name); }\n",
    "js/counter.js": (
        "import { note } from './log.js';\nnote('counter');\n"
        "export const state = { n: 0 };\nexport function bump() { state.n += 1; return state.n; }\n"
    ),
    "js/cycle_a.js": (
        "import { note } from './log.js';\nimport { b, seenAtStart } from './cycle_b.js';\nnote('a');\n"
        "export const A = 'a';\nexport function a() { return `a+${b()}+${seenAtStart}`; }\n"
    ),
    "js/cycle_b.js": (
        "import { note } from './log.js';\nimport { A, a } from './cycle_a.js';\nnote('b');\n"
        "export function b() { return 'b'; }\nexport const seenAtStart = typeof a;\n"
        "export function late() { return A; }\n"
    ),
    "js/side.js": "import { note } from './log.js';\nnote('side');\n",
    "js/lazy/screen.js": (
        "import { note } from '../log.js';\nimport { state, bump } from '../counter.js';\nnote('screen');\n"
        "export function read() { return state.n; }\nexport function bumpAgain() { return bump(); }\n"
        "export const where = new URL('../data/x.json', import.meta.url).pathname;\n"
    ),
    "js/lazy/boom.js": "throw new Error('boom');\n",
    "js/app.js": """import { order, note } from './log.js';
import { bump, state } from './counter.js';
import * as counter from './counter.js';
import { a } from './cycle_a.js';
import { late } from './cycle_b.js';
import './side.js';
note('app');
bump();

async function main() {
  const results = { order, cycle: a(), late: late(), keys: Object.keys(counter).sort() };
  results.tag = Object.prototype.toString.call(counter);
  results.extensible = Object.isExtensible(counter);
  results.same = (await import('./counter.js')) === counter;
  const screen = await import('./lazy/screen.js');
  results.shared = [screen.read(), screen.bumpAgain(), state.n];
  results.again = (await import(`./lazy/${'screen'}.js`)) === screen;
  results.where = screen.where;
  const errors = [];
  for (const _ of [1, 2]) {
    try {
      await import('./lazy/boom.js');
    } catch (err) {
      errors.push(err);
    }
  }
  results.boom = [errors.length, errors[0]?.message, errors[0] === errors[1]];
  try {
    await import('./nope.js');
    results.missing = 'loaded';
  } catch (err) {
    results.missing = err instanceof TypeError;
  }
  window.__results = results;
}
main();
""",
}


def _run(browser: Browser, files: dict[str, bytes], script: str) -> tuple[dict[str, Any], list[str]]:
    context = browser.new_context()
    fetched: list[str] = []
    errors: list[str] = []

    def serve(route: Route) -> None:
        path = route.request.url.removeprefix(f"{ORIGIN}/static/")
        if route.request.url == f"{ORIGIN}/":
            page_html = f'<!doctype html><script type="module" src="/static/{script}"></script>'
            route.fulfill(body=page_html, content_type="text/html")
        elif path in files:
            fetched.append(path)
            route.fulfill(body=files[path], content_type="text/javascript")
        else:
            route.fulfill(status=404, body="not found")

    try:
        context.route(f"{ORIGIN}/**", serve)
        page = context.new_page()
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(f"{ORIGIN}/")
        page.wait_for_function("() => window.__results", timeout=10_000)
        results = page.evaluate("() => JSON.parse(JSON.stringify(window.__results))")
    finally:
        context.close()
    assert not errors, errors
    return results, fetched


def test_bundled_modules_behave_as_native_es_modules(browser: Browser) -> None:
    sources = {name: text.encode() for name, text in MODULES.items()}
    native, native_fetched = _run(browser, sources, "js/app.js")
    bundles = build(sources, [("app", ["js/app.js"]), ("lazy", ["js/lazy/screen.js"])], "js/app.js")
    bundled, bundled_fetched = _run(browser, bundles, "bundle/app.js")

    assert bundled == native, json.dumps({"native": native, "bundled": bundled}, indent=1)
    # What native ES modules do, spelled out (so a change of the test modules cannot make both wrong alike):
    assert native["order"] == ["counter", "b", "a", "side", "app", "screen"]
    assert native["cycle"] == "a+b+function" and native["late"] == "a"
    assert native["keys"] == ["bump", "state"] and native["tag"] == "[object Module]"
    assert native["extensible"] is False and native["same"] is True and native["again"] is True
    assert native["shared"] == [1, 2, 2], "the lazily loaded module shares the entry's counter"
    assert native["where"] == "/static/js/data/x.json"
    assert native["boom"] == [2, "boom", True] and native["missing"] is True
    # Requests: the entry bundle, the lazy one once, boom.js's own bundle once (it failed while running, not loading).
    assert len(native_fetched) == len(set(native_fetched)) == len(MODULES)
    assert sorted(bundled_fetched) == ["bundle/app.js", "bundle/js.lazy.boom.js", "bundle/lazy.js"]
