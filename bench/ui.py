"""UI benchmark: the web app's performance budgets (ui-guide §10) measured in Debian's Chromium on a live demo server.

Not a test: it reports the worst and the median of N runs per figure, plus a run under 4x CPU throttling
(`Emulation.setCPUThrottlingRate`), and the machine's load before and after. Usage:

    .venv/bin/python -m bench.ui [--runs 10] [--throttled-runs 3] [--json]

Figures (all in the page's own clock, `performance.now()`):
- login → interactive: from the 'helpline:login-submit' mark to the first frame with the first page (50) loaded and
  painted ('helpline:list-ready') and the socket's hello (`<html data-connection="open">`); and whether focus is in
  the list within 2 s;
- first load: requests and bytes (encoded, i.e. as sent, gzip where the server compressed) per type, from the login
  page's navigation to the interactive inbox;
- open 500 messages: the app's 'helpline:open' measure (activation → the frame after render), its rows in the DOM,
  whether the timeline is pinned to the bottom;
- j → next: from the `j` keydown event to the end of the next 'helpline:open' measure, and long tasks meanwhile;
- frame → row: the app's 'helpline:frame-row' measure (socket message → row repainted) for a live message;
- scroll 10,000: long tasks (> 50 ms) and the most row nodes at once while wheeling through 10,000 rows (list pages are
  served by a route handler in the browser, so only the client's rendering is measured); with `--trace-cpu` also
  the renderer main thread's tasks by thread CPU time from Chromium's trace (tasks over 50 ms of CPU, the longest,
  the total), which a loaded machine does not inflate as it does the wall-clock `longtask` figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from tests.web.browser.conftest import CHROMIUM_ARGS, DESKTOP
from tests.web.browser.inbox import fake_conversation_pages
from tests.web.browser.server import LiveServer, running
from tests.web.browser.world import World, build_world, populate

from helpline.platform.migrate import upgrade

LONG_MESSAGES = 500
SCROLL_ROWS = 10_000

LONGTASKS = """
window.__longtasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longtasks.push(e.duration); })
  .observe({ type: 'longtask', buffered: true });
"""


def machine_load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# ---------------------------------------------------------------- data


def seed(world: World) -> dict[str, Any]:
    """The demo cast, 60 more API-channel customers, and one conversation of 500 messages (newest activity)."""
    populate(world)
    for i in range(60):
        world.customer_says("api", f"Bench Customer {i:02d}", f"Hello, this is message {i}", wait=False)
    big = world.customer_says("api", "Long Story", "Message 1 of a long story")
    world.server.ok(world.admin, "POST", f"/conversations/{big['id']}/takeover")  # the bot stays quiet from here
    for n in range(2, 2 + LONG_MESSAGES - len(world.messages(big["id"]))):
        world.customer_says("api", "Long Story", f"Message {n} of a long story", wait=False)

    def enough() -> bool:
        page = world.server.ok(world.admin, "GET", f"/conversations/{big['id']}/messages", params={"limit": 200})
        count = len(page["items"])
        while page.get("next_cursor") and count < LONG_MESSAGES:
            page = world.server.ok(
                world.admin,
                "GET",
                f"/conversations/{big['id']}/messages",
                params={"limit": 200, "cursor": page["next_cursor"]},
            )
            count += len(page["items"])
        return count >= LONG_MESSAGES

    world.server.until(enough, what="500 messages in the long conversation", timeout=300, every=1.0)
    total = world.server.ok(world.admin, "GET", "/conversations", params={"limit": 200})["items"]
    return {"big": big, "conversations": len(total)}


# ---------------------------------------------------------------- browser plumbing
# Every page-side expression is a function: the app's CSP has no 'unsafe-eval', and Playwright evaluates a bare
# expression string passed to wait_for_function with eval.


@contextmanager
def context(browser: Browser, server: LiveServer, throttle: float) -> Iterator[tuple[BrowserContext, Page]]:
    ctx = browser.new_context(base_url=server.base_url, viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    page.add_init_script(LONGTASKS)
    if throttle != 1:
        cdp = ctx.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    try:
        yield ctx, page
    finally:
        ctx.close()


def login(page: Page, world: World) -> dict[str, Any]:
    page.goto("/login")
    page.get_by_label("E-mail").fill(world.admin.email)
    page.get_by_label("Password").fill(world.admin.password)
    page.get_by_role("button", name="Log in").click()
    # The first page of 50 is in (the list's 'helpline:list-ready' mark; the DOM holds only the rows in view), rows
    # are painted and the socket said hello; then, separately, whether focus went to the list.
    page.wait_for_function(
        """() => {
          const list = document.getElementById('conversation-list');
          if (!list || !list.querySelector('[role=option]')) return false;
          if (!performance.getEntriesByName('helpline:list-ready').length) return false;
          if (document.documentElement.dataset.connection !== 'open') return false;
          window.__ready = performance.now() - performance.getEntriesByName('helpline:login-submit')[0].startTime;
          return true;
        }""",
        polling="raf",
        timeout=60_000,
    )
    focused = page.evaluate(
        """() => new Promise((resolve) => {
          const t0 = performance.getEntriesByName('helpline:login-submit')[0].startTime;
          const until = performance.now() + 2000;
          const check = () => {
            const list = document.getElementById('conversation-list');
            if (list.contains(document.activeElement)) resolve(performance.now() - t0);
            else if (performance.now() > until) resolve(null);
            else requestAnimationFrame(check);
          };
          check();
        })"""
    )
    resources: list[dict[str, Any]] = page.evaluate(
        """() => performance.getEntriesByType('resource').map((e) => ({name: e.name, type: e.initiatorType,
             encoded: e.encodedBodySize, transfer: e.transferSize}))"""
    )
    document = page.evaluate("() => performance.getEntriesByType('navigation')[0].encodedBodySize")
    by_type: dict[str, dict[str, int]] = {"html": {"requests": 1, "bytes": int(document)}}
    for entry in resources:
        path = urlparse(entry["name"]).path
        kind = (
            "js"
            if path.endswith(".js")
            else "css"
            if path.endswith(".css")
            else "sprite"
            if path.endswith(".svg")
            else "json (api, i18n)"
            if path.startswith("/api/") or path.endswith(".json")
            else "other"
        )
        slot = by_type.setdefault(kind, {"requests": 0, "bytes": 0})
        slot["requests"] += 1
        slot["bytes"] += int(entry["encoded"])
    return {
        "interactive_ms": page.evaluate("window.__ready"),
        "focus_in_list": focused is not None,
        "requests": sum(v["requests"] for v in by_type.values()),
        "bytes": by_type,
    }


def open_long(page: Page) -> dict[str, Any]:
    before = page.evaluate("performance.getEntriesByName('helpline:open').length")
    page.get_by_role("option", name="Long Story", exact=False).first.click()
    page.wait_for_function(f"() => performance.getEntriesByName('helpline:open').length > {before}", polling="raf")
    page.wait_for_timeout(100)
    return dict(
        page.evaluate(
            """() => {
              const open = performance.getEntriesByName('helpline:open').at(-1);
              const feed = document.querySelector('[role=feed]');
              return { open_ms: open.duration, articles: feed.querySelectorAll('[role=article], article').length,
                pinned: Math.abs(feed.scrollHeight - feed.scrollTop - feed.clientHeight) < 4 };
            }"""
        )
    )


def next_with_j(page: Page) -> dict[str, Any]:
    page.get_by_role("listbox", name="Conversations").focus()
    page.evaluate(
        """() => { window.__longtasks = []; window.__opens = performance.getEntriesByName('helpline:open').length;
             document.addEventListener('keydown', (e) => { if (e.key === 'j') window.__jAt = e.timeStamp; },
               { capture: true, once: true }); }"""
    )
    page.keyboard.press("j")
    page.wait_for_function("() => performance.getEntriesByName('helpline:open').length > window.__opens", polling="raf")
    page.wait_for_timeout(100)
    return dict(
        page.evaluate(
            """() => { const open = performance.getEntriesByName('helpline:open').at(-1);
                 return { j_ms: open.startTime + open.duration - window.__jAt,
                          j_longest_task_ms: Math.max(0, ...window.__longtasks) }; }"""
        )
    )


def frame_to_row(page: Page, world: World, n: int) -> dict[str, Any]:
    page.goto("/")
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    before = page.evaluate("performance.getEntriesByName('helpline:frame-row').length")
    world.customer_says("api", "Bench Customer 07", f"Live message {n}", wait=False)
    page.wait_for_function(
        f"() => performance.getEntriesByName('helpline:frame-row').length > {before}", polling="raf", timeout=30_000
    )
    durations = page.evaluate(
        f"performance.getEntriesByName('helpline:frame-row').slice({before}).map((e) => e.duration)"
    )
    return {"frame_row_ms": max(durations)}


def scroll_ten_thousand(page: Page, world: World) -> dict[str, Any]:
    page.route("**/api/v1/conversations?*", fake_conversation_pages(SCROLL_ROWS))
    page.goto("/")
    page.get_by_role("option").first.wait_for()
    # Load every page first (the cursor API, 50 at a time), then measure a wheel pass from top to bottom.
    page.wait_for_function(
        f"""() => {{ const v = document.getElementById('conversation-list'); v.scrollTop = v.scrollHeight;
              return v.scrollHeight >= {SCROLL_ROWS} * 76; }}""",
        polling=50,
        timeout=300_000,
    )
    page.evaluate(
        """() => { const v = document.getElementById('conversation-list'); v.scrollTop = 0; window.__longtasks = [];
             window.__rows = 0; new MutationObserver(() => {
               window.__rows = Math.max(window.__rows, v.querySelectorAll('[role=option]').length); })
               .observe(v, { childList: true, subtree: true }); }"""
    )
    box = page.get_by_role("listbox", name="Conversations").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    browser = page.context.browser
    if TRACE_CPU and browser is not None:
        browser.start_tracing(page=page, categories=["devtools.timeline", "disabled-by-default-devtools.timeline"])
    started = time.monotonic()
    for _ in range(300):
        page.mouse.wheel(0, 2_550)
        page.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => resolve()))")
    seconds = time.monotonic() - started
    cpu = main_thread_tasks(browser.stop_tracing()) if TRACE_CPU and browser is not None else {}
    result = page.evaluate(
        """() => ({ longtasks_over_50: window.__longtasks.filter((d) => d > 50).length,
                   scroll_longest_task_ms: Math.max(0, ...window.__longtasks), max_row_nodes: window.__rows,
                   reached_row: Math.round(document.getElementById('conversation-list').scrollTop / 76) })"""
    )
    page.unroute("**/api/v1/conversations?*")
    return {**result, "wheel_seconds": round(seconds, 1), **cpu}


TRACE_CPU = False  # --trace-cpu: the scroll pass's main-thread tasks by thread CPU time, from Chromium's trace


def main_thread_tasks(trace: bytes) -> dict[str, float]:
    """The renderer main thread's tasks (`RunTask`) in a Chromium trace, by thread CPU time (`tdur`): on a loaded
    machine the wall-clock `longtask` figures measure the wait for a core as much as the page's work."""
    data = json.loads(trace)
    events = data["traceEvents"] if isinstance(data, dict) else data
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    cpu = sorted(
        e["tdur"] / 1000
        for e in events
        if e.get("name") == "RunTask"
        and e.get("ph") == "X"
        and "tdur" in e
        and names.get((e["pid"], e["tid"])) == "CrRendererMain"
    )
    return {
        "scroll_tasks_over_50_cpu": sum(1 for c in cpu if c > 50),
        "scroll_longest_task_cpu_ms": round(cpu[-1], 1) if cpu else 0.0,
        "scroll_main_thread_cpu_ms": round(sum(cpu)),
    }


# ---------------------------------------------------------------- runs


def measure(
    browser: Browser, server: LiveServer, world: World, throttle: float, n: int, *, scroll: bool
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with context(browser, server, throttle) as (_, page):
        figures.update(login(page, world))
        figures.update(open_long(page))
        figures.update(next_with_j(page))
        figures.update(frame_to_row(page, world, n))
    if not scroll:
        return figures
    with context(browser, server, throttle) as (ctx, page):
        answer = ctx.request.post(
            "/api/v1/auth/login", data={"email": world.admin.email, "password": world.admin.password}
        )
        assert answer.ok, answer.text()
        figures.update(scroll_ten_thousand(page, world))
    return figures


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Worst and median per numeric figure over the runs that have it (worst = max; booleans must hold in all)."""
    summary: dict[str, Any] = {}
    for key, value in {k: v for run in runs for k, v in run.items()}.items():
        having = [run for run in runs if key in run]
        if isinstance(value, bool):
            summary[key] = all(run[key] for run in having)
        elif isinstance(value, (int, float)):
            values = [float(run[key]) for run in having]
            summary[key] = {
                "worst": round(max(values), 1),
                "median": round(statistics.median(values), 1),
                "runs": len(values),
            }
        else:
            summary[key] = having[-1][key]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--throttled-runs", type=int, default=3)
    parser.add_argument("--scroll-runs", type=int, default=3, help="runs (of each kind) that also scroll 10,000 rows")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--trace-cpu", action="store_true", help="scroll: also main-thread tasks by CPU time")
    args = parser.parse_args()
    global TRACE_CPU
    TRACE_CPU = args.trace_cpu
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("bench.ui needs Debian's chromium on PATH (apt-get install chromium)")
    report: dict[str, Any] = {
        "load_before": machine_load(),
        "command": (
            f"python -m bench.ui --runs {args.runs} --throttled-runs {args.throttled_runs}"
            f" --scroll-runs {args.scroll_runs}"
        ),
    }
    with tempfile.TemporaryDirectory(prefix="helpline-bench-ui-") as scratch:
        directory = Path(scratch)
        database = f"sqlite+aiosqlite:///{directory / 'helpline.db'}"
        upgrade(database)
        with running(directory, database) as server:
            world = build_world(server)
            started = time.monotonic()
            report["data"] = seed(world)
            report["seed_seconds"] = round(time.monotonic() - started, 1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
                try:
                    report["chromium"] = browser.version
                    plan: list[tuple[str, float, int]] = [("normal", 1, args.runs), ("cpu_4x", 4, args.throttled_runs)]
                    for label, throttle, count in plan:
                        runs = [
                            measure(browser, server, world, throttle, i, scroll=i < args.scroll_runs)
                            for i in range(count)
                        ]
                        report[label] = {"runs": count, "summary": summarise(runs)}
                        progress(label, report[label]["summary"])
                finally:
                    browser.close()
    report["load_after"] = machine_load()
    print(json.dumps(report, indent=None if args.json else 2))


def progress(label: str, summary: dict[str, Any]) -> None:
    if os.environ.get("BENCH_QUIET") != "1":
        print(f"# {label}: {json.dumps(summary)}", flush=True)


if __name__ == "__main__":
    main()
