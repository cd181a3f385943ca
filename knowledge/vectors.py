"""Chroma vector index (embedded PersistentClient or remote HttpClient), cosine space."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np


def _client(path: Path, url: str | None):
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class VectorIndex:
    """One Chroma collection per embedder, holding the retrieval units' vectors."""

    def __init__(self, path: Path, url: str | None, name: str) -> None:
        self.path = path
        self.url = url
        self.name = re.sub(r"[^A-Za-z0-9._-]", "-", name)[:60].strip("-._") or "lepton"
        self._client = None
        self._col = None

    def open(self) -> None:
        if self._col is None:
            self._client = _client(self.path, self.url)
            self._col = self._client.get_or_create_collection(self.name, metadata={"hnsw:space": "cosine"})

    def reset(self) -> None:
        """Drop and recreate the collection."""
        self.open()
        self._client.delete_collection(self.name)
        self._col = self._client.get_or_create_collection(self.name, metadata={"hnsw:space": "cosine"})

    def count(self) -> int:
        self.open()
        return self._col.count()

    def ids(self) -> set[str]:
        self.open()
        return set(self._col.get(include=[])["ids"])

    def live_flags(self) -> dict[str, bool]:
        """Every stored id with its `live` metadata flag."""
        self.open()
        res = self._col.get(include=["metadatas"])
        return {i: bool((m or {}).get("live")) for i, m in zip(res["ids"], res["metadatas"], strict=True)}

    def set_live(self, flags: dict[str, bool], batch: int = 1000) -> None:
        """Set the `live` metadata flag of existing ids (other metadata is kept)."""
        if not flags:
            return
        self.open()
        ids = list(flags)
        for i in range(0, len(ids), batch):
            part = ids[i : i + batch]
            self._col.update(ids=part, metadatas=[{"live": flags[j]} for j in part])

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict], batch: int = 1000) -> None:
        self.open()
        for i in range(0, len(ids), batch):
            self._col.upsert(
                ids=ids[i : i + batch],
                embeddings=vectors[i : i + batch].tolist(),
                metadatas=metadatas[i : i + batch],
            )

    def delete(self, ids: list[str]) -> None:
        if ids:
            self.open()
            self._col.delete(ids=list(ids))

    def query(self, vector: np.ndarray, n: int, where: dict | None = None) -> dict[str, float]:
        """Nearest units as {id: cosine similarity}."""
        self.open()
        total = self._col.count()
        if total == 0 or n <= 0:
            return {}
        res = self._col.query(
            query_embeddings=[vector.tolist()],
            n_results=min(n, total),
            where=where or None,
            include=["distances"],
        )
        return {i: 1.0 - float(d) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)}

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        self.open()
        if not ids:
            return {}
        res = self._col.get(ids=list(ids), include=["embeddings"])
        return {
            i: np.asarray(e, dtype=np.float32) for i, e in zip(res["ids"], res["embeddings"], strict=True)
        }
