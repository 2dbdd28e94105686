"""What the default script matcher costs with 100 scripts: per-message latency on one core, resident memory, and
the time to retrain after one script is added or edited (the bot waits for that before the next message).

100 scripts of 10 example phrasings each are made from BANKING77's training split (77 intents, and 23 of them a
second time with ten other sentences under another key); the messages are 1,000 rows of its test split. Only the
cost is measured here: accuracy is `helpline bot eval`'s job.

    .venv/bin/python -m bench.bot_matching --data ../shared/data/banking77 [--method NAME] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from helpline.bot.engine import ScriptEntry, fit_matchers
from helpline.bot.matching.registry import methods
from helpline.bot.schemas import ScriptDefinition


def _rss_mb() -> float:
    """Resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _scripts(rows: list[dict[str, str]], count: int, rng: random.Random) -> list[ScriptEntry]:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_intent[row["category"]].append(row["text"])
    intents = sorted(by_intent)
    pool = {intent: rng.sample(texts, len(texts)) for intent, texts in by_intent.items()}
    entries: list[ScriptEntry] = []
    for n in range(count):
        intent = intents[n % len(intents)]
        round_ = n // len(intents)
        examples = pool[intent][round_ * 10 : round_ * 10 + 10]
        key = f"{re.sub(r'[^a-z0-9]+', '-', intent.lower()).strip('-')}-{round_}"
        definition = ScriptDefinition.model_validate(
            {"key": key, "name": intent.replace("_", " "), "examples": examples, "steps": []}
        )
        entries.append(ScriptEntry(n + 1, key, definition.name, 1, definition))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/banking77"))
    parser.add_argument("--method", default=None, help="matching method (default: the product's default)")
    parser.add_argument("--scripts", type=int, default=100)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threadpool_limits(limits=1)
    rng = random.Random(0)
    train = list(csv.DictReader((args.data / "train.csv").open(encoding="utf-8")))
    test = rng.sample(list(csv.DictReader((args.data / "test.csv").open(encoding="utf-8"))), args.messages)
    available = methods()
    name = args.method or next(iter(available))
    factory = available[name]
    baseline = _rss_mb()

    scripts = _scripts(train, args.scripts, rng)
    started = time.perf_counter()
    matcher, _ = fit_matchers(factory, scripts)  # cold: the model loads and every example is encoded
    cold = time.perf_counter() - started

    # An admin adds one script and edits another: the retrain the next customer message waits for.
    edited = scripts[1].definition.model_copy(update={"examples": [*scripts[1].definition.examples, "new phrasing"]})
    added = ScriptDefinition.model_validate(
        {"key": "brand-new", "name": "Brand new script", "examples": ["a brand new demand", "something new"]}
    )
    changed = [scripts[0], ScriptEntry(2, edited.key, edited.name, 2, edited), *scripts[2:]]
    retrains, retrain_cpu, settled = [], [], []
    for extra in ([], [ScriptEntry(999, added.key, added.name, 1, added)]):
        started, cpu_started = time.perf_counter(), time.thread_time()
        matcher, _ = fit_matchers(factory, changed + extra)
        # Until the new script is used (the fit returns); the recalibration it starts runs in its own thread.
        retrains.append(time.perf_counter() - started)
        retrain_cpu.append(time.thread_time() - cpu_started)
        event = getattr(matcher, "settled", None)
        if event is not None:
            event.wait()
        settled.append(time.perf_counter() - started)

    wall, cpu = [], []
    for row in test:
        t0, c0 = time.perf_counter(), time.process_time()
        matcher.rank(row["text"], 3)
        matcher.is_out_of_scope(row["text"])
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    figures: dict[str, Any] = {
        "method": name,
        "scripts": len(changed) + 1,
        "examples": sum(len(s.definition.examples) + 1 for s in changed) + 3,
        "messages": len(test),
        "cold_fit_s": round(cold, 2),
        "retrain_edit_s": round(retrains[0], 2),
        "retrain_add_s": round(retrains[1], 2),
        "retrain_edit_cpu_s": round(retrain_cpu[0], 2),
        "retrain_add_cpu_s": round(retrain_cpu[1], 2),
        "recalibrated_edit_s": round(settled[0], 2),
        "recalibrated_add_s": round(settled[1], 2),
        "latency_p50_ms": round(float(np.percentile(wall, 50)), 2),
        "latency_p95_ms": round(float(np.percentile(wall, 95)), 2),
        "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 2),
        "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 2),
        "cpu_mean_ms": round(statistics.fmean(cpu), 2),
        "rss_mb": round(_rss_mb(), 1),
        "rss_before_model_mb": round(baseline, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    for key, value in figures.items():
        print(f"{key:22} {value}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
