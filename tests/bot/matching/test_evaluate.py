"""`helpline bot eval` on a small slice of BANKING77: the figures arrive as one JSON object on the last line."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from helpline.cli import main
from tests.bot.matching.conftest import DATA


def _eval(*extra: str) -> dict[str, object]:
    args = ["bot", "eval", "--train", str(DATA / "banking77_train.csv"), "--test", str(DATA / "banking77_test.csv")]
    result = CliRunner().invoke(main, [*args, "--method", "tfidf-svm", "--json", *extra])
    assert result.exit_code == 0, result.output
    figures: dict[str, object] = json.loads(result.output.strip().splitlines()[-1])
    return figures


def test_eval_reports_every_figure() -> None:
    figures = _eval()
    assert figures["method"] == "tfidf-svm"
    assert figures["categories"] == 5
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "false_match_rate"):
        assert 0.0 <= float(figures[key]) <= 1.0  # type: ignore[arg-type]
    # age_limit occurs only in the test slice: its rows are out of scope.
    assert 0.0 <= float(figures["oos_recall"]) <= 1.0  # type: ignore[arg-type]
    assert float(figures["accuracy"]) >= 0.6  # type: ignore[arg-type]
    for key in ("latency_p50_ms", "latency_p95_ms", "cpu_p95_ms", "train_seconds", "peak_rss_mb"):
        assert float(figures[key]) > 0.0  # type: ignore[arg-type]


def test_shots_seeds_and_held_out_categories() -> None:
    figures = _eval("--shots", "3", "--seeds", "2", "--holdout-categories", "1")
    assert figures["shots"] == 3
    assert figures["seeds"] == 2
    assert figures["holdout_categories"] == 1
    assert figures["oos_recall"] is not None
    # The curve: in-scope accuracy falls and out-of-scope recall rises as the cut rises; one row is the default.
    curve: list[dict[str, float]] = figures["curve"]  # type: ignore[assignment]
    assert len(curve) >= 2 and sum(row["calibrated"] for row in curve) == 1
    cuts = [row["cut"] for row in curve]
    assert cuts == sorted(cuts)
    accuracy = [row["in_scope_accuracy"] for row in curve]
    recall = [row["oos_recall"] for row in curve]
    assert accuracy == sorted(accuracy, reverse=True) and recall == sorted(recall)


def test_the_shipped_scripts_and_articles_are_measured_too() -> None:
    seeded: dict[str, Any] = _eval()["seeded"]  # type: ignore[assignment]
    assert seeded["on_topic"] == 13 and seeded["off_topic"] == 34
    for key in ("on_topic_answered_right", "off_topic_declined", "off_topic_started", "off_topic_clarified"):
        assert 0.0 <= float(seeded[key]) <= 1.0
    # The test paraphrases and the dev ones (on which the decision was designed), each per language.
    for name, rows in (("paraphrases", 47), ("dev", 94)):
        figures = seeded[name]
        assert figures["rows"] == rows
        for key in ("started_right", "top1_right", "clarified_with_right", "started_wrong"):
            assert 0.0 <= float(figures[key]) <= 1.0
        assert figures["started_right"] + figures["started_wrong"] <= 1.0
        assert set(figures["by_language"]) == {"en", "pt"}
        assert set(figures["by_language"]["pt"]) == {
            "started_right",
            "top1_right",
            "clarified_with_right",
            "started_wrong",
        }


def test_an_unknown_method_is_refused() -> None:
    args = ["bot", "eval", "--train", str(DATA / "banking77_train.csv"), "--test", str(DATA / "banking77_test.csv")]
    result = CliRunner().invoke(main, [*args, "--method", "nope"])
    assert result.exit_code != 0
    assert "unknown or unavailable method" in result.output
