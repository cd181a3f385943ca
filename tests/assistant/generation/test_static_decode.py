"""StaticDecoder and LocalGenerator(decoder="static") on the REAL bundled SmolLM2-135M (eager on CPU).

The CUDA-graph replay itself needs a GPU: benchmarks/gpu_check.py runs it there and compares it with
`generate` token for token.
"""

from __future__ import annotations

import time

import pytest

from assistant.generation import GenerationError, LocalGenerator, build_messages
from tests.assistant.generation.conftest import LONG_STORY, PASSAGES, QUESTION

pytestmark = pytest.mark.slow

MESSAGES = build_messages(QUESTION, PASSAGES, "en")


@pytest.fixture(scope="module")
def pair(converted):
    """(static, hf) generators in float32, where both decoders must agree exactly."""
    static = LocalGenerator(model_path=converted[0], dtype="float32", decoder="static", max_cache_len=1024)
    hf = LocalGenerator(model_path=converted[0], dtype="float32", decoder="hf", prefix_cache=False)
    static.warm_up()
    hf.warm_up()
    return static, hf


def test_static_decoder_matches_generate_token_for_token(pair):
    import torch
    from transformers import GenerationConfig

    static, hf = pair
    inputs = hf._encode(MESSAGES)
    config = GenerationConfig(
        do_sample=False, max_new_tokens=40, repetition_penalty=1.1, eos_token_id=hf._eos, pad_token_id=hf._pad
    )
    with torch.inference_mode():
        ref = hf._model.generate(**inputs, generation_config=config)[0, inputs["input_ids"].shape[1] :]
    got = list(static._static.tokens(inputs["input_ids"], 40, set(hf._eos)))
    assert got == ref.tolist()
    assert not static._static.graphed  # CPU: the eager step


def test_static_generate_and_stream_agree_with_hf(pair):
    static, hf = pair
    text = static.generate(MESSAGES, max_new_tokens=30)
    assert text and text == hf.generate(MESSAGES, max_new_tokens=30)
    assert static.last_finish_reason in ("stop", "length")
    pieces = list(static.stream(MESSAGES, max_new_tokens=30))
    assert len(pieces) >= 3 and "".join(pieces).strip() == text
    # A second request reuses the same cache: nothing of the first one leaks into it.
    assert static.generate(MESSAGES, max_new_tokens=30) == text


def test_static_chinese_stream_never_splits_a_character(pair):
    static, _ = pair
    messages = [{"role": "user", "content": "用中文写一句关于退货的话。"}]
    pieces = list(static.stream(messages, max_new_tokens=40))
    assert pieces and all("\ufffd" not in p for p in pieces)


def test_static_timeout_and_release(pair):
    static, _ = pair
    messages = LONG_STORY
    start = time.perf_counter()
    with pytest.raises(GenerationError) as info:
        static.generate(messages, max_new_tokens=400, timeout_s=0.5)
    assert info.value.reason == "timeout" and info.value.partial is not None
    assert time.perf_counter() - start < 8.0
    stream = static.stream(MESSAGES, max_new_tokens=100)
    next(stream)
    stream.close()  # abandoned: the lock must be free again
    assert static.generate(MESSAGES, max_new_tokens=3, timeout_s=30)


def test_prompt_longer_than_the_static_cache_uses_generate(converted):
    small = LocalGenerator(model_path=converted[0], dtype="float32", decoder="static", max_cache_len=64)
    small.warm_up()
    assert small.generate(MESSAGES, max_new_tokens=5)  # ~100-token prompt: falls back to model.generate


def test_unknown_decoder_is_refused():
    with pytest.raises(ValueError):
        LocalGenerator(decoder="vllm")
