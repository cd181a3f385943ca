"""The official `openai` client against `/v1/chat/completions` and `/v1/models`."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import OpenAI


@pytest.fixture()
def client(live) -> OpenAI:
    return OpenAI(base_url=f"{live.url}/v1", api_key="x", max_retries=0, timeout=60)


def test_models(client: OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["lepton"]
    assert client.models.retrieve("lepton").id == "lepton"


def test_plain_completion_answers_the_last_user_message(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="lepton",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": "What's the weather in Paris tomorrow?"},
            {"role": "assistant", "content": "I don't know."},
            {"role": "user", "content": "How long do refunds take?"},
        ],
    )
    assert completion.object == "chat.completion" and completion.model == "lepton"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert "5 business days" in choice.message.content
    lepton = completion.model_extra["lepton"]
    assert lepton["route"] == "rag" and lepton["language"] == "en"
    assert lepton["sources"][0]["title"] == "Refunds" and lepton["message_id"] and lepton["session_id"]
    assert set(lepton["intent"]) == {"name", "confidence"}

    # The session continues through `user` or the X-Lepton-Session header.
    again = client.chat.completions.create(
        model="lepton",
        user=lepton["session_id"],
        messages=[{"role": "user", "content": "And express shipping?"}],
    )
    assert again.model_extra["lepton"]["session_id"] == lepton["session_id"]
    third = client.chat.completions.create(
        model="lepton",
        messages=[{"role": "user", "content": "How much is express shipping?"}],
        extra_headers={"X-Lepton-Session": lepton["session_id"]},
    )
    assert third.model_extra["lepton"]["session_id"] == lepton["session_id"]


def test_streaming_completion(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="lepton", stream=True, messages=[{"role": "user", "content": "How much is express shipping?"}]
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "9 euros" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    lepton = last.model_extra["lepton"]
    assert lepton["route"] == "rag" and lepton["reply"].strip() == text.strip() and lepton["message_id"]


def test_stream_ends_with_done(live) -> None:
    body = {"model": "lepton", "stream": True, "messages": [{"role": "user", "content": "refunds?"}]}
    with httpx.stream("POST", f"{live.url}/v1/chat/completions", json=body, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        data = [line[len("data: ") :] for line in r.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    assert json.loads(data[-2])["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    "body",
    [
        {"model": "lepton", "messages": []},
        {"model": "lepton", "messages": [{"role": "system", "content": "only a system message"}]},
        {"model": "lepton", "messages": [{"role": "user", "content": "   "}]},
        {"model": "lepton", "messages": [{"role": "user", "content": 42}]},
        {"model": "lepton", "messages": [{"role": "wizard", "content": "hi"}]},
        {"model": "lepton", "messages": "hi"},
        {"model": "lepton", "stream": True, "messages": [{"role": "user", "content": "x" * 5000}]},
    ],
)
def test_bad_requests_are_json_errors(live, body: dict) -> None:
    r = httpx.post(f"{live.url}/v1/chat/completions", json=body, timeout=60)
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()["error"]) == {"code", "message"}


def test_the_client_sees_bad_requests_as_errors(client: OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="lepton", messages=[{"role": "assistant", "content": "hello"}])
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")
