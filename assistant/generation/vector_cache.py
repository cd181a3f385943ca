"""A bounded cache of text vectors: answer units only change when the knowledge base does."""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Embed = Callable[[list[str]], np.ndarray]
log = logging.getLogger(__name__)


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


def unit_texts(kb: Any) -> list[str]:
    """The texts the composer embeds for every live passage the main embedder reads (see `embed_text`)."""
    from assistant.generation.extractive import embed_text
    from assistant.generation.units import passage_units

    reads = kb.embedder.languages
    texts: dict[str, None] = {}
    for u in kb.live_units().values():
        if u.get("kind") not in ("document", "template"):
            continue
        if reads is not None and str(u.get("language", "")).split("-")[0] not in reads:
            continue  # the composer ranks these by words alone (see Assistant._compose)
        for unit in passage_units(u["text"]):
            texts[embed_text(unit)] = None
    return list(texts)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _saved_path(kb: Any) -> Path | None:
    """Where the unit vectors of `kb` are kept between runs (one file per embedder), or None (no folder)."""
    folder = getattr(kb, "path", None)
    e = kb.embedder
    return Path(folder) / f"unit-vectors-{e.name}-{e.dim}.npz" if folder is not None else None


def _load_saved(path: Path, wanted: dict[str, str]) -> dict[str, np.ndarray]:
    """The saved vectors of the texts in `wanted` (digest -> text); a missing or unreadable file gives none."""
    try:
        with np.load(path) as saved:
            keys, vectors = saved["keys"], saved["vectors"]
    except (OSError, KeyError, ValueError):
        return {}
    return {wanted[k]: v for k, v in zip(keys.tolist(), vectors, strict=True) if k in wanted}


def _save(path: Path, vectors: dict[str, np.ndarray]) -> None:
    """Written aside and renamed: a crash mid-write leaves the previous file (or none), never half a file."""
    if not vectors:
        return
    keys = np.array([_digest(t) for t in vectors])
    fd, tmp = tempfile.mkstemp(prefix=".unit-vectors-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, keys=keys, vectors=np.stack(list(vectors.values())).astype(np.float32))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("unit vectors not saved: %s", exc)
        Path(tmp).unlink(missing_ok=True)


def prewarm(kb: Any, batch: int = 64, stop: threading.Event | None = None) -> int:
    """Embed every unit the composer may quote, so a KB's first questions pay no embedding; the cache grows
    to hold the whole KB (plus room for what is added later). Vectors are kept next to the knowledge base
    (`unit-vectors-<embedder>.npz`), so a restart embeds only what changed. Returns how many were embedded."""
    cache = passage_vectors(kb.embedder)
    texts = unit_texts(kb)
    cache.size = max(cache.size, 2 * len(texts))
    path = _saved_path(kb)
    if path is not None:
        saved = _load_saved(path, {_digest(t): t for t in texts})
        with cache._lock:
            for t, v in saved.items():
                cache._vectors.setdefault(t, v)
    with cache._lock:
        missing = [t for t in texts if t not in cache._vectors]
    done = 0
    for i in range(0, len(missing), batch):
        if stop is not None and stop.is_set():
            break  # shutting down: keep what is done for the next start
        cache(missing[i : i + batch])
        done = min(i + batch, len(missing))
    if path is not None and done:
        with cache._lock:
            live = {t: cache._vectors[t] for t in texts if t in cache._vectors}
        _save(path, live)
    return done


def keep_warm(kb: Any, every_s: float = 30.0, stop: threading.Event | None = None) -> threading.Thread:
    """A daemon thread that pre-warms now, and again whenever a new KB version goes live."""
    stop = stop or threading.Event()

    def loop() -> None:
        seen: object = None
        while not stop.is_set():
            try:
                version = kb.live_version()
                if version != seen:
                    prewarm(kb, stop=stop)
                    seen = version
            except Exception as exc:  # a warm cache is an optimisation: never take the server down
                log.warning("unit vector pre-warm failed: %s: %s", type(exc).__name__, exc)
            stop.wait(every_s)

    thread = threading.Thread(target=loop, name="unit-vectors", daemon=True)
    thread.start()

    def finish() -> None:  # a daemon thread still inside the embedder at exit aborts the process
        stop.set()
        thread.join(timeout=30)

    atexit.register(finish)
    return thread
