"""Which generator drafts replies on this machine: `generator.backend` resolved, then built."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.generation.base import Generator
from assistant.generation.local import LocalGenerator
from assistant.generation.openai_client import OpenAIGenerator

if TYPE_CHECKING:
    from assistant.config import GeneratorSettings, Settings

log = logging.getLogger("lepton.assistant")


def generator_backend(g: GeneratorSettings) -> str:
    """The backend a setting means on this machine: "auto" is a configured server, else the local model on
    CUDA only, else "none" (extractive answers)."""
    if g.backend != "auto":
        return g.backend
    if g.base_url:
        return "openai"
    import torch

    return "local" if torch.cuda.is_available() else "none"


def make_generator(settings: Settings) -> Generator | None:
    """The generator `settings` ask for (None: extractive answers only)."""
    g = settings.generator
    backend = generator_backend(g)
    log.info("generator: %s (setting %r)", backend, g.backend)
    if backend == "none":
        return None
    if backend == "openai":
        if not g.base_url:
            raise ValueError("generator.backend = 'openai' needs generator.base_url")
        return OpenAIGenerator(g.base_url, g.model, api_key=g.api_key, timeout_s=g.timeout_s)
    from assistant.model_registries import adapter_registry
    from training.generator_lora import current_adapter

    model_path = Path(g.model_path) if g.model_path else None
    adapter = (
        current_adapter(settings.home, model_path, registry=adapter_registry(settings))
        if g.adapter == "current"
        else None
    )
    return LocalGenerator(model_path, adapter_path=adapter, decoder=g.decoder)
