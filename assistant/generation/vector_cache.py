"""A bounded cache of text vectors: answer units only change when the knowledge base does."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

Embed = Callable[[list[str]], np.ndarray]


class VectorCache:
    """LRU of text -> vector in front of an embedding function; only unseen texts are embedded."""

    def __init__(self, embed: Embed, size: int = 8192) -> None:
        self.embed = embed
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = np.asarray(self.embed(missing), dtype=np.float32)
            with self._lock:
                for t, v in zip(missing, fresh, strict=True):
                    found[t] = v
                    self._vectors[t] = v
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, 0), np.float32)
        return np.stack([found[t] for t in texts])

    def __len__(self) -> int:
        return len(self._vectors)


_CACHES: weakref.WeakKeyDictionary[Any, VectorCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def passage_vectors(embedder: Any) -> VectorCache:
    """The one cache of `embedder.embed_passages` (a new embedder, e.g. after a reload, gets a new one)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(embedder)
        if cache is None:
            cache = _CACHES[embedder] = VectorCache(embedder.embed_passages)
        return cache
