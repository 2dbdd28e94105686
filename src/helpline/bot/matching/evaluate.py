"""`helpline bot eval`: train a matcher exactly as the product does on a text,category CSV and measure it."""

from __future__ import annotations

import csv
import io
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np
from sklearn.metrics import f1_score

from helpline.bot.matching.protocol import ScriptMatcher

Rows = list[tuple[str, str]]


def load_rows(path: Path) -> Rows:
    """(text, category) pairs from a CSV with a header naming `text` and `category`."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "category"} <= set(reader.fieldnames):
            raise click.BadParameter(f"{path} needs the columns text,category")
        return [(row["text"], row["category"]) for row in reader if row["text"] and row["category"]]


def draw_training(rows: Rows, *, shots: int | None, holdout: int, rng: random.Random) -> tuple[Rows, set[str]]:
    """Keep `shots` random examples per category and drop `holdout` random categories (returned as held out)."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for text, category in rows:
        by_category[category].append(text)
    categories = sorted(by_category)
    if holdout >= len(categories):
        raise click.BadParameter(f"cannot hold out {holdout} of {len(categories)} categories")
    held = set(rng.sample(categories, holdout)) if holdout else set()
    kept: Rows = []
    for category in categories:
        if category in held:
            continue
        texts = by_category[category]
        if shots is not None and shots < len(texts):
            texts = rng.sample(texts, shots)
        kept += [(text, category) for text in texts]
    return kept, held


@dataclass
class RunFigures:
    """What one draw (seed) measured."""

    accuracy: float
    macro_f1: float
    in_scope_accuracy: float
    in_scope_rejected: float
    oos_recall: float | None
    false_match_rate: float
    train_seconds: float
    latencies_ms: list[float] = field(repr=False)
    cpu_ms: list[float] = field(repr=False)
    # Per test message: (in-scope score, the matcher's cut, top guess right, truly in scope) for the curve.
    scope: list[tuple[float, float, bool, bool]] = field(default_factory=list, repr=False)


def run_once(
    matcher: ScriptMatcher, train: Rows, test: Rows, advance: Callable[[int], None] = lambda n: None
) -> RunFigures:
    """Fit on `train`, then ask about each test message one at a time, as the bot does."""
    started = time.perf_counter()
    matcher.fit(train)
    train_seconds = time.perf_counter() - started
    known = {category for _, category in train}
    truth, forced, accepted, latencies, cpu = [], [], [], [], []
    scope: list[tuple[float, float, bool, bool]] = []
    scope_of = getattr(matcher, "scope", None)
    for text, category in test:
        t0, c0 = time.perf_counter(), time.process_time()
        best = matcher.rank(text, k=3)[0][0]
        rejected = matcher.is_out_of_scope(text)
        # CPU time too: on a shared machine the wall clock also counts other processes' turns on the cores.
        latencies.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        if scope_of is not None:
            score, cut = scope_of(text)
            scope.append((score, cut, best == category, category in known))
        truth.append(category if category in known else None)
        forced.append(best)
        accepted.append(None if rejected else best)
        advance(1)
    in_scope = [i for i, t in enumerate(truth) if t is not None]
    out = [i for i, t in enumerate(truth) if t is None]
    wrong_starts = sum(1 for t, a in zip(truth, accepted, strict=True) if a is not None and a != t)
    y_true = [truth[i] for i in in_scope]
    y_forced = [forced[i] for i in in_scope]
    return RunFigures(
        accuracy=_mean(t == f for t, f in zip(y_true, y_forced, strict=True)),
        macro_f1=float(f1_score(y_true, y_forced, labels=sorted(known), average="macro", zero_division=0.0)),
        in_scope_accuracy=_mean(truth[i] == accepted[i] for i in in_scope),
        in_scope_rejected=_mean(accepted[i] is None for i in in_scope),
        oos_recall=_mean(accepted[i] is None for i in out) if out else None,
        false_match_rate=wrong_starts / len(test) if test else 0.0,
        train_seconds=train_seconds,
        latencies_ms=latencies,
        cpu_ms=cpu,
        scope=scope,
    )


def scope_curve(scope: list[tuple[float, float, bool, bool]], points: int = 11) -> list[dict[str, float]]:
    """In-scope accuracy (right and accepted) against out-of-scope recall as the cut moves, one row per cut: the
    cuts are quantiles of the in-scope scores, plus the calibrated cut (its mean over draws) marked `calibrated`."""
    if not scope or all(inside for *_, inside in scope) or not any(inside for *_, inside in scope):
        return []
    score = np.array([s for s, *_ in scope])
    right = np.array([r for _, _, r, _ in scope])
    inside = np.array([i for *_, i in scope])
    cuts = list(np.quantile(score[inside], np.linspace(0.0, 0.5, points)))
    calibrated = float(np.mean([c for _, c, _, _ in scope]))
    rows = []
    for cut in sorted({*cuts, calibrated}):
        rows.append(
            {
                "cut": round(float(cut), 4),
                "in_scope_accuracy": round(float(np.mean(right[inside] & (score[inside] >= cut))), 4),
                "oos_recall": round(float(np.mean(score[~inside] < cut)), 4),
                "calibrated": float(cut == calibrated),
            }
        )
    return rows


def _mean(values: Any) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


@dataclass
class Report:
    """Figures averaged over the draws, with latencies pooled over every message of every draw."""

    method: str
    train_rows: int
    test_rows: int
    categories: int
    shots: int | None
    seeds: int
    holdout_categories: int
    accuracy: float
    accuracy_std: float
    macro_f1: float
    in_scope_accuracy: float
    in_scope_rejected: float
    oos_recall: float | None
    false_match_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float
    train_seconds: float
    peak_rss_mb: float
    curve: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def evaluate(
    make: Callable[[], ScriptMatcher],
    train_rows: Rows,
    test_rows: Rows,
    *,
    shots: int | None = None,
    seeds: int = 1,
    holdout: int = 0,
    progress: bool = True,
) -> Report:
    """Run `seeds` draws (training subset and held-out categories differ per seed) and average the figures."""
    runs: list[RunFigures] = []
    method = ""
    with click.progressbar(
        length=seeds * len(test_rows), label="matching", file=sys.stderr if progress else io.StringIO()
    ) as bar:
        for seed in range(seeds):
            train, _ = draw_training(train_rows, shots=shots, holdout=holdout, rng=random.Random(seed))
            matcher = make()
            method = matcher.method
            runs.append(run_once(matcher, train, test_rows, bar.update))
    latencies = [ms for run in runs for ms in run.latencies_ms]
    cpu = [ms for run in runs for ms in run.cpu_ms]
    oos = [run.oos_recall for run in runs if run.oos_recall is not None]
    return Report(
        method=method,
        train_rows=len(train_rows),
        test_rows=len(test_rows),
        categories=len({c for _, c in train_rows}),
        shots=shots,
        seeds=seeds,
        holdout_categories=holdout,
        accuracy=_mean(r.accuracy for r in runs),
        accuracy_std=statistics.pstdev([r.accuracy for r in runs]),
        macro_f1=_mean(r.macro_f1 for r in runs),
        in_scope_accuracy=_mean(r.in_scope_accuracy for r in runs),
        in_scope_rejected=_mean(r.in_scope_rejected for r in runs),
        oos_recall=_mean(oos) if oos else None,
        false_match_rate=_mean(r.false_match_rate for r in runs),
        latency_p50_ms=float(np.percentile(latencies, 50)) if latencies else 0.0,
        latency_p95_ms=float(np.percentile(latencies, 95)) if latencies else 0.0,
        cpu_p50_ms=float(np.percentile(cpu, 50)) if cpu else 0.0,
        cpu_p95_ms=float(np.percentile(cpu, 95)) if cpu else 0.0,
        train_seconds=_mean(r.train_seconds for r in runs),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        curve=scope_curve([row for run in runs for row in run.scope]),
    )


def describe(report: Report) -> str:
    """The human-readable summary printed before the JSON line."""
    pct = "{:.2%}".format
    lines = [
        f"method               {report.method}",
        f"training             {report.train_rows} rows, {report.categories} categories, "
        f"shots={report.shots or 'all'}, seeds={report.seeds}, held-out categories={report.holdout_categories}",
        f"accuracy (top-1)     {pct(report.accuracy)} ± {pct(report.accuracy_std)}   macro-F1 {pct(report.macro_f1)}",
        f"in-scope accuracy    {pct(report.in_scope_accuracy)} (right script and not rejected; "
        f"{pct(report.in_scope_rejected)} rejected)",
        "out-of-scope recall  " + (pct(report.oos_recall) if report.oos_recall is not None else "n/a (no such rows)"),
        f"false-match rate     {pct(report.false_match_rate)} of all test messages started a wrong script",
        f"latency per message  p50 {report.latency_p50_ms:.2f} ms, p95 {report.latency_p95_ms:.2f} ms wall; "
        f"CPU p50 {report.cpu_p50_ms:.2f} ms, p95 {report.cpu_p95_ms:.2f} ms",
        f"training time        {report.train_seconds:.1f} s per draw   peak RSS {report.peak_rss_mb:.0f} MB",
    ]
    if report.curve:
        lines.append("out-of-scope curve   cut      in-scope acc.  OOS recall")
        lines += [
            f"                     {row['cut']:.4f}   {pct(row['in_scope_accuracy']):>12}  {pct(row['oos_recall']):>10}"
            + ("   <- calibrated (default)" if row["calibrated"] else "")
            for row in report.curve
        ]
    return "\n".join(lines)


def sample_test(rows: Rows, limit: int | None, seed: int = 0) -> Rows:
    """A reproducible random subset of the test rows (all of them when limit is None)."""
    if limit is None or limit >= len(rows):
        return rows
    return random.Random(seed).sample(rows, limit)


def run_cli(
    *,
    train: Path,
    test: Path,
    shots: int | None,
    seeds: int,
    method: str | None,
    holdout: int,
    test_limit: int | None,
    threads: int,
    as_json: bool,
) -> None:
    """The body of `helpline bot eval`: figures to stdout, progress to stderr, JSON as the last line."""
    import json

    from threadpoolctl import threadpool_limits

    from helpline.bot.matching.registry import methods

    available = methods()
    name = method or next(iter(available))
    if name not in available:
        raise click.BadParameter(f"unknown or unavailable method {name!r}; available: {', '.join(available)}")

    def make() -> ScriptMatcher:
        matcher = available[name]()
        # torch is imported by the semantic matcher itself, so it can only be limited once that exists.
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        return matcher

    # Latency is measured per message on `threads` cores: BLAS (and torch, in the semantic method) obey this.
    with threadpool_limits(limits=threads):
        report = evaluate(
            make,
            load_rows(train),
            sample_test(load_rows(test), test_limit),
            shots=shots,
            seeds=seeds,
            holdout=holdout,
        )
        # The shipped scripts and articles: fresh paraphrases and off-topic questions (matching/seeded.py).
        from helpline.bot.matching.registry import knowledge_encoder
        from helpline.bot.matching.seeded import describe_seeded, seeded_figures

        seeded = seeded_figures(make, knowledge_encoder())
    click.echo(describe(report))
    click.echo(describe_seeded(seeded))
    if as_json:
        figures = report.as_dict()
        figures["seeded"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(seeded).items()}
        click.echo(json.dumps(figures))
