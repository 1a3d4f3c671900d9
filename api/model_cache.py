"""An LRU cache of loaded models, keyed by artifact sha256 and bounded in entries.

Keying by the artifact digest (not the model name or alias) means promotion never serves a stale
model: an alias that moves resolves to another digest. A model is loaded at most once at a time:
concurrent misses on the same digest wait for the first load instead of repeating it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from forecaster import Forecaster
from models.artifacts import ArtifactStore

Loader = Callable[[str], Forecaster]


def artifact_loader(store: ArtifactStore) -> Loader:
    """Load a model by digest: the store verifies the files, the core verifies the weights."""

    def load(sha256: str) -> Forecaster:
        directory: Path = store.open(sha256)
        return Forecaster.load(directory)

    return load


class ModelCache:
    """Up to ``capacity`` loaded models; the least recently used one is evicted first."""

    def __init__(
        self, load: Loader, capacity: int, on_lookup: Callable[[bool], None] | None = None
    ):
        self._load = load
        self.capacity = capacity
        self._models: OrderedDict[str, Forecaster] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._on_lookup = on_lookup

    def get(self, sha256: str) -> Forecaster:
        """The model stored under ``sha256``, loaded on a miss."""
        hit = self._cached(sha256)
        if self._on_lookup is not None:
            self._on_lookup(hit is not None)
        if hit is not None:
            return hit
        with self._load_lock(sha256):
            hit = self._cached(sha256)
            if hit is None:
                hit = self._load(sha256)
                self._insert(sha256, hit)
        return hit

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)

    def __contains__(self, sha256: object) -> bool:
        with self._lock:
            return sha256 in self._models

    def _cached(self, sha256: str) -> Forecaster | None:
        with self._lock:
            model = self._models.get(sha256)
            if model is not None:
                self._models.move_to_end(sha256)
            return model

    def _insert(self, sha256: str, model: Forecaster) -> None:
        with self._lock:
            self._models[sha256] = model
            self._models.move_to_end(sha256)
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)
            self._loading.pop(sha256, None)

    def _load_lock(self, sha256: str) -> threading.Lock:
        with self._lock:
            return self._loading.setdefault(sha256, threading.Lock())
