"""OpenAIGenerator against a real HTTP server on 127.0.0.1.

The tiny FastAPI app below stands in for vLLM / SGLang / Ollama, which cannot run here: it speaks the
same /v1/chat/completions protocol (plain JSON and SSE streaming) and replies with canned text, or
with the real bundled SmolLM2 (LocalGenerator) for model "bundled".
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import SecretStr

from assistant.generation import GenerationError, Generator, OpenAIGenerator

CANNED = "Most items can be returned within 30 days from delivery."
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Return window?"}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(seen: dict, local=None):
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        model = body["model"]
        seen.setdefault("calls", []).append(model)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = body
        if model == "error500":
            return JSONResponse({"error": "boom"}, status_code=500)
        if model == "flaky" and seen["calls"].count("flaky") == 1:
            return JSONResponse({"error": "warming up"}, status_code=503)
        if model == "bad-request":
            return JSONResponse({"error": "no such model"}, status_code=404)
        if model == "slow":
            await asyncio.sleep(5)
        if model == "bundled" and local is not None:  # the real bundled model behind the HTTP API
            words = await asyncio.to_thread(
                lambda: list(local.stream(body["messages"], max_new_tokens=body.get("max_tokens", 160)))
            )
            text = "".join(words)
        else:
            text = CANNED
            words = [w if k == 0 else " " + w for k, w in enumerate(CANNED.split(" "))]
        if not body.get("stream"):
            return {
                "id": "x",
                "object": "chat.completion",
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
            }

        async def events():
            yield "data: " + json.dumps({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}) + "\n\n"
            yield ": keep-alive comment\n\n"
            for k, w in enumerate(words):
                if model == "slow-stream" and k == 3:
                    await asyncio.sleep(5)
                yield "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": w}}]}) + "\n\n"
            yield (
                "data: "
                + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                + "\n\n"
            )
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def _serve(seen: dict, local=None):
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(_app(seen, local), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/v1", srv, thread


@pytest.fixture(scope="module")
def server():
    seen: dict = {}
    url, srv, thread = _serve(seen)
    yield url, seen
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_against_bundled_model_behind_http(generator):
    from assistant.generation import Passage, build_messages

    url, srv, thread = _serve({}, local=generator)
    try:
        remote = OpenAIGenerator(url, "bundled", timeout_s=120)
        passages = [Passage(id="r", title="Returns", text=CANNED, language="en")]
        messages = build_messages("How long do I have to return an item?", passages, "en")
        plain = remote.generate(messages, max_new_tokens=20)
        pieces = list(remote.stream(messages, max_new_tokens=20))
        assert plain and len(pieces) >= 3
        assert "".join(pieces).strip() == plain == generator.generate(messages, max_new_tokens=20)
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_is_a_generator(server):
    gen = OpenAIGenerator(server[0], "canned")
    assert isinstance(gen, Generator)


def test_generate_plain(server):
    url, seen = server
    gen = OpenAIGenerator(url, "canned", api_key=SecretStr("sk-secret-123"))
    assert gen.generate(MESSAGES, max_new_tokens=50) == CANNED
    assert seen["auth"] == "Bearer sk-secret-123"
    assert seen["body"]["max_tokens"] == 50 and seen["body"]["stream"] is False
    assert "sk-secret" not in repr(gen) and "sk-secret" not in str(vars(gen))


def test_stream_pieces(server):
    gen = OpenAIGenerator(server[0], "canned")
    pieces = list(gen.stream(MESSAGES))
    assert len(pieces) > 3 and "".join(pieces) == CANNED


def test_retries_5xx_then_succeeds(server):
    url, seen = server
    assert OpenAIGenerator(url, "flaky", max_retries=2).generate(MESSAGES) == CANNED
    assert seen["calls"].count("flaky") == 2


def test_persistent_5xx_raises(server):
    url, seen = server
    with pytest.raises(GenerationError):
        OpenAIGenerator(url, "error500", max_retries=1).generate(MESSAGES)
    assert seen["calls"].count("error500") == 2


def test_4xx_is_not_retried(server):
    url, seen = server
    with pytest.raises(GenerationError) as info:
        OpenAIGenerator(url, "bad-request", max_retries=3).generate(MESSAGES)
    assert info.value.reason == "http" and seen["calls"].count("bad-request") == 1


def test_server_down_fails_fast():
    gen = OpenAIGenerator(f"http://127.0.0.1:{_free_port()}/v1", "any", max_retries=2, timeout_s=10)
    start = time.monotonic()
    with pytest.raises(GenerationError):
        gen.generate(MESSAGES)
    with pytest.raises(GenerationError):
        list(gen.stream(MESSAGES))
    assert time.monotonic() - start < 3.0


@pytest.mark.parametrize("streaming", [False, True])
def test_slow_server_times_out(server, streaming):
    gen = OpenAIGenerator(server[0], "slow", timeout_s=1.0)
    start = time.monotonic()
    with pytest.raises(GenerationError) as info:
        if streaming:
            list(gen.stream(MESSAGES))
        else:
            gen.generate(MESSAGES)
    assert info.value.reason == "timeout"
    assert time.monotonic() - start < 2.5


def test_stall_mid_stream_keeps_partial(server):
    gen = OpenAIGenerator(server[0], "slow-stream")
    got: list[str] = []
    with pytest.raises(GenerationError) as info:
        for piece in gen.stream(MESSAGES, timeout_s=1.0):
            got.append(piece)
    assert info.value.reason == "timeout"
    assert "".join(got) == info.value.partial == "Most items can"
