"""What each sentence encoder costs on one core, and whether int8 MiniLM keeps fp32's embeddings and accuracy.

`cost` (run once per encoder, each in a fresh process so resident memory is its own): load time, resident memory
added by the runtime and the model, per-message CPU and wall time (p50/p95, one message at a time, as serving
encodes), and batch-64 throughput. Messages are rows of BANKING77's *training* split (cost only).
`build`: the ONNX graph's build and int8 quantisation times, into a fresh cache directory.
`int8`: cosine of int8 to fp32 embeddings on a varied EN/PT/ES set, and 10-shot accuracy on BANKING77's training
split (10 examples per intent drawn for training, 20 other training rows per intent scored; 3 draws), fp32 against
int8 — never the test split.

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.encoders cost --encoder onnx-fp32|onnx-int8|numpy|use
    OMP_NUM_THREADS=1 .venv/bin/python -m bench.encoders build
    OMP_NUM_THREADS=1 .venv/bin/python -m bench.encoders int8 [--data ../shared/data/banking77]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

DATA = Path("../shared/data/banking77")  # from /work/main; --data elsewhere


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _train_rows(data: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((data / "train.csv").open(encoding="utf-8")))


def _load(name: str) -> Any:
    if name == "use":
        from helpline.bot.matching.backends import load_use

        return load_use()
    if name == "numpy":
        from helpline.bot.matching.bert import MiniLM

        return MiniLM.from_package()
    from helpline.bot.matching.bert_onnx import OnnxMiniLM

    return OnnxMiniLM.from_package(quantized=name == "onnx-int8")


def cost(name: str, messages: int, data: Path) -> None:
    threadpool_limits(limits=1)
    rng = random.Random(0)
    texts = [r["text"] for r in rng.sample(_train_rows(data), messages)]
    # The baseline is what a server has loaded anyway: numpy, scipy, scikit-learn and the matching package.
    import sklearn.svm  # noqa: F401

    import helpline.bot.matching.registry  # noqa: F401

    before = _rss_mb()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model = _load(name)
    model.embed(["warm-up"])
    load_wall, load_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    loaded = _rss_mb()
    wall, cpu = [], []
    for text in texts:
        w, c = time.perf_counter(), time.thread_time()
        model.embed([text])
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    batch = texts[:512]
    w, c = time.perf_counter(), time.thread_time()
    for i in range(0, len(batch), 64):
        model.embed(batch[i : i + 64])
    batch_wall, batch_cpu = time.perf_counter() - w, time.thread_time() - c
    print(
        f"{name}: load {load_wall:.2f} s wall / {load_cpu:.2f} s CPU; RSS +{loaded - before:.0f} MB "
        f"({before:.0f} -> {loaded:.0f}, after use {_rss_mb():.0f}); per message CPU p50 {np.percentile(cpu, 50):.2f} "
        f"p95 {np.percentile(cpu, 95):.2f} ms, wall p50 {np.percentile(wall, 50):.2f} "
        f"p95 {np.percentile(wall, 95):.2f} ms "
        f"({messages} messages); batch 64: {len(batch) / batch_cpu:.0f} sentences/s CPU, "
        f"{len(batch) / batch_wall:.0f}/s wall; load average {os.getloadavg()[0]:.2f}"
    )


def build() -> None:
    from helpline.bot.matching import bert_graph
    from helpline.bot.matching.bert import BertFolder
    from helpline.bot.matching.bert_onnx import _quantize, model_source

    folder = BertFolder.from_package()
    w, c = time.perf_counter(), time.process_time()
    data = bert_graph.build(folder).SerializeToString()
    print(
        f"build fp32: {time.perf_counter() - w:.2f} s wall / {time.process_time() - c:.2f} s CPU, "
        f"{len(data) / 1e6:.1f} MB"
    )
    again = bert_graph.build(folder).SerializeToString()
    print(f"deterministic: {again == data}")
    w, c = time.perf_counter(), time.process_time()
    quantized = _quantize(data)
    print(
        f"quantise: {time.perf_counter() - w:.2f} s wall / {time.process_time() - c:.2f} s CPU, "
        f"{len(quantized) / 1e6:.1f} MB"
    )
    with tempfile.TemporaryDirectory() as cache:
        model_source(folder, quantized=False, directory=Path(cache))
        w, c = time.perf_counter(), time.process_time()
        model_source(folder, quantized=False, directory=Path(cache))
        print(f"from cache (hash + read): {time.perf_counter() - w:.2f} s wall / {time.process_time() - c:.2f} s CPU")
    print(f"load average {os.getloadavg()[0]:.2f}")


def int8(data: Path) -> None:
    from tests.bot.matching.test_bert_onnx import SENTENCES

    from helpline.bot.matching.bert_onnx import OnnxMiniLM
    from helpline.bot.matching.encoder import Encoder
    from helpline.bot.matching.semantic import SemanticScorer

    fp32, q8 = OnnxMiniLM.from_package(), OnnxMiniLM.from_package(quantized=True)
    rows = _train_rows(data)
    varied = SENTENCES + [r["text"] for r in random.Random(1).sample(rows, 200)]
    cosines = (fp32.embed(varied) * q8.embed(varied)).sum(axis=1)
    print(f"int8 vs fp32 cosine on {len(varied)} sentences: min {cosines.min():.4f} mean {cosines.mean():.4f}")
    by_intent: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_intent[row["category"]].append(row["text"])
    encoders = {"fp32": Encoder(fp32), "int8": Encoder(q8)}
    results: dict[str, list[float]] = {"fp32": [], "int8": []}
    for seed in range(3):
        rng = random.Random(seed)
        train, held = [], []
        for intent, texts in sorted(by_intent.items()):
            drawn = rng.sample(texts, 30)
            train += [(t, intent) for t in drawn[:10]]
            held += [(t, intent) for t in drawn[10:]]
        for variant, encoder in encoders.items():
            scorer = SemanticScorer([t for t, _ in train], [i for _, i in train], encoder=encoder)
            scores = scorer.scores([t for t, _ in held])
            predicted = [scorer.classes[j] for j in scores.argmax(axis=1)]
            results[variant].append(float(np.mean([p == i for p, (_, i) in zip(predicted, held, strict=True)])))
    for variant, accuracies in results.items():
        print(f"{variant}: 10-shot train-split accuracy {100 * np.mean(accuracies):.2f} % ({accuracies})")
    print(f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["cost", "build", "int8"])
    parser.add_argument("--encoder", default="onnx-fp32", choices=["onnx-fp32", "onnx-int8", "numpy", "use"])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    if args.what == "cost":
        cost(args.encoder, args.messages, args.data)
    elif args.what == "build":
        build()
    else:
        int8(args.data)


if __name__ == "__main__":
    main()
