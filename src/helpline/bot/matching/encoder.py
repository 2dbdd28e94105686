"""Sentence encoders whose weights ship inside an installed package (nothing fetched at run time), with a cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from helpline.bot.matching.scorers import Matrix

# Training sets are re-encoded on every retrain and calibration split; remembering them makes those cheap.
_CACHE_SIZE = 50_000
_BATCH = 64
_RECENT = 16


class Backend(Protocol):
    """A frozen sentence-embedding model: texts in, one unit-length row per text out."""

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> Matrix: ...


class Encoder:
    """Encodes texts to unit-length vectors through a backend; thread-safe, with a bounded cache by text."""

    def __init__(self, backend: Backend) -> None:
        # Imported here: threadpoolctl is only needed once a model runs.
        from threadpoolctl import threadpool_limits

        # One message is one small matrix product per layer: more BLAS threads only add hand-over costs, and on a
        # shared two-core machine they fight the web server for the cores.
        threadpool_limits(limits=1, user_api="blas")
        self.backend = backend
        self.dimension = backend.dimension
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, remember: bool = False) -> Matrix:
        """One row per text, in order; `remember` caches them (training texts, not customers' messages)."""
        if not texts:
            return np.zeros((0, self.dimension))
        if not remember:
            # The matcher asks for one message's vector several times (scores, similarity): keep the last few.
            # Training texts (calibration re-scores held-out examples) come from the cache.
            with self._lock:
                recent = [self._recent.get(t, self._cache.get(t)) for t in texts]
            if all(v is not None for v in recent):
                return np.vstack([v for v in recent if v is not None])
            vectors = self._run(list(texts))
            if len(texts) <= _RECENT:
                with self._lock:
                    for text, vector in zip(texts, vectors, strict=True):
                        self._recent[text] = vector
                        self._recent.move_to_end(text)
                    while len(self._recent) > _RECENT:
                        self._recent.popitem(last=False)
            return vectors
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
        rows = [self.backend.embed(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
        return np.asarray(np.vstack(rows), dtype=np.float64)


_shared: dict[str, Encoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(name: str, load: Callable[[], Backend]) -> Encoder:
    """One model per process and name: loading takes seconds and tens of MB."""
    with _shared_lock:
        if name not in _shared:
            _shared[name] = Encoder(load())
        return _shared[name]
