"""The one component factory: embedder, knowledge base, generator and intent model built from `Settings`.

The server (`Assistant`) and the CLI build their components here, so a setting means the same everywhere
(`retrieval.embedder = "openai"` with its URL and key works for `lepton kb …` as it does for `lepton serve`).
Nothing is loaded: each component's `warm_up()` does the heavy work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings

if TYPE_CHECKING:  # importing this module stays cheap
    from assistant.generation import Generator
    from knowledge import Embedder, KnowledgeBase
    from training import IntentClassifier


def build_embedder(settings: Settings) -> Embedder:
    """The retrieval embedder of `settings.retrieval` (local model, bundled e5, or a remote server)."""
    from knowledge import make_embedder

    r = settings.retrieval
    return make_embedder(
        r.embedder,
        path=r.embedder_path,
        base_url=r.embedder_url,
        api_key=r.embedder_api_key.get_secret_value() if r.embedder_api_key else None,
        model=r.embedder_model,
    )


def build_knowledge_base(settings: Settings, embedder: Embedder | None = None) -> KnowledgeBase:
    """The knowledge base in `settings.kb_dir` (embedded Chroma, or the `chroma_url` server)."""
    from knowledge import KnowledgeBase

    kwargs: dict[str, Any] = {
        "embedder": embedder or build_embedder(settings),
        "chroma_url": settings.chroma_url,
        "database_url": settings.database_url,
    }
    if settings.retrieval.min_score is not None:
        kwargs["min_score"] = settings.retrieval.min_score
    return KnowledgeBase(settings.kb_dir, **kwargs)


def build_generator(settings: Settings) -> Generator | None:
    """The generator `settings.generator` asks for (None: extractive answers only)."""
    from assistant.generation.backend import make_generator

    return make_generator(settings)


def current_intent_model(settings: Settings) -> tuple[str, Path] | None:
    """The registry's current intent model as (version, folder), or None before the first training."""
    from assistant.model_registries import intent_registry

    current = intent_registry(settings).current()
    return (current[0], Path(current[1])) if current is not None else None


def build_intent_model(path: Path) -> IntentClassifier:
    """The intent classifier in `path` (labels and config read; weights load on `warm_up()`)."""
    from training import IntentClassifier

    return IntentClassifier.load(path)
