"""Session fixtures: the bundled model is converted (into a temp cache) and loaded once per test run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.generation import Passage

# One grounded question shared by the generator tests.
PASSAGES = [
    Passage(
        id="returns-1",
        title="Return policy",
        text="Most items can be returned within 30 days from delivery, in original condition with all accessories.",
        language="en",
    )
]
QUESTION = "How long do I have to return an item?"
# A prompt that makes the model talk on: the timeout tests need a reply that cannot finish in time.
LONG_STORY = [
    {"role": "system", "content": "Be verbose."},
    {"role": "user", "content": "Tell me a long story."},
]


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> tuple[Path, float]:
    """(HF folder, seconds the conversion took) for the bundled SmolLM2, converted from its GGUF."""
    from assistant.generation import bundled_generator_path

    cache = tmp_path_factory.mktemp("lepton-cache")
    start = time.perf_counter()
    path = bundled_generator_path(cache)
    return path, time.perf_counter() - start


@pytest.fixture(scope="session")
def generator(converted):
    """A warmed-up LocalGenerator on the converted bundled model."""
    from assistant.generation import LocalGenerator

    gen = LocalGenerator(model_path=converted[0])
    gen.warm_up()
    return gen
