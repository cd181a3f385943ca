"""LocalGenerator and the bundled model conversion, with the REAL bundled SmolLM2-135M (slow on CPU)."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.generation import (
    GenerationError,
    build_messages,
    bundled_generator_path,
)
from tests.assistant.generation.conftest import LONG_STORY, PASSAGES, QUESTION

pytestmark = pytest.mark.slow


def test_conversion_creates_plain_hf_folder(converted):
    path, _ = converted
    assert (path / "config.json").is_file()
    assert (path / "model.safetensors").is_file()
    assert (path / "tokenizer.json").is_file() or (path / "tokenizer_config.json").is_file()
    assert not list(path.glob("*.gguf"))
    assert not list(path.parent.glob(".smollm2*")), "temporary folder left behind"
    start = time.perf_counter()
    assert bundled_generator_path(path.parent.parent) == path
    assert time.perf_counter() - start < 0.5


def test_folder_loads_without_gguf_file(generator, converted):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(converted[0])
    assert config.model_type == "llama"
    assert getattr(config, "quantization_config", None) is None
    assert generator._model is not None


def test_generate_returns_text(generator):
    reply = generator.generate(build_messages(QUESTION, PASSAGES, "en"), max_new_tokens=40)
    assert isinstance(reply, str) and reply.strip()
    assert generator.last_finish_reason in ("stop", "length")


def test_stream_pieces_concatenate_to_generate(generator):
    messages = build_messages(QUESTION, PASSAGES, "en")
    pieces = list(generator.stream(messages, max_new_tokens=30))
    assert len(pieces) >= 3
    assert "".join(pieces).strip() == generator.generate(messages, max_new_tokens=30)


def test_timeout_raises_quickly(generator):
    messages = LONG_STORY
    start = time.perf_counter()
    with pytest.raises(GenerationError) as info:
        generator.generate(messages, max_new_tokens=400, timeout_s=0.5)
    assert info.value.reason == "timeout"
    assert time.perf_counter() - start < 8.0  # a full 400-token run takes far longer on CPU
    # The lock is released: the next call works.
    assert generator.generate(messages, max_new_tokens=3, timeout_s=30)


def test_abandoned_stream_releases_the_model(generator):
    messages = build_messages(QUESTION, PASSAGES, "en")
    stream = generator.stream(messages, max_new_tokens=100)
    next(stream)
    stream.close()
    assert generator.generate(messages, max_new_tokens=3, timeout_s=30)


def test_concurrent_requests_are_serialised(generator):
    messages = build_messages(QUESTION, PASSAGES, "en")
    results: list[str] = []

    def run() -> None:
        results.append(generator.generate(messages, max_new_tokens=12, timeout_s=120))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1] and results[0]
