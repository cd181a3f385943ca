"""`generator.backend = "auto"` (the default): a configured server always, the local model on CUDA only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from assistant.config import GeneratorSettings, Settings
from assistant.generation import OpenAIGenerator
from assistant.generation.backend import generator_backend
from assistant.pipeline import Assistant

ON_THIS_MACHINE = "local" if torch.cuda.is_available() else "none"


def test_auto_is_the_default_and_fits_the_machine() -> None:
    assert GeneratorSettings().backend == "auto"
    assert generator_backend(GeneratorSettings()) == ON_THIS_MACHINE
    assert generator_backend(GeneratorSettings(base_url="http://127.0.0.1:8000/v1")) == "openai"


@pytest.mark.parametrize("backend", ["local", "openai", "none"])
def test_an_explicit_backend_wins(backend: str) -> None:
    g = GeneratorSettings(backend=backend, base_url="http://127.0.0.1:8000/v1")
    assert generator_backend(g) == backend


def test_the_assistant_builds_what_the_policy_says(tmp_path: Path) -> None:
    default = Assistant(Settings(home=tmp_path / "a"))._make_generator()
    assert (default is None) == (ON_THIS_MACHINE == "none")
    served = Assistant(
        Settings(home=tmp_path / "b", generator={"base_url": "http://127.0.0.1:8000/v1"})
    )._make_generator()
    assert isinstance(served, OpenAIGenerator) and served.base_url.startswith("http://127.0.0.1:8000")
