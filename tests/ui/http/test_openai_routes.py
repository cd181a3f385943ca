"""The official `openai` client against `/v1/chat/completions` and `/v1/models`."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from openai import OpenAI

from tests.ui.http.conftest import ORIGIN


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

    # The session continues through the X-Lepton-Session header (`user` names the end user: see below).
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


def test_user_names_the_end_user_and_keeps_their_session(live, client: OpenAI) -> None:
    """OpenAI's `user` is the end user's id: the same user continues their session (a follow-up is read in
    its context), another user gets their own, and the id is scoped by the key that sent it."""
    first = client.chat.completions.create(
        model="lepton", user="cust-42", messages=[{"role": "user", "content": "How long do refunds take?"}]
    )
    again = client.chat.completions.create(
        model="lepton", user="cust-42", messages=[{"role": "user", "content": "and how much is express?"}]
    )
    sid = first.model_extra["lepton"]["session_id"]
    assert again.model_extra["lepton"]["session_id"] == sid
    other = client.chat.completions.create(
        model="lepton", user="cust-43", messages=[{"role": "user", "content": "How long do refunds take?"}]
    )
    assert other.model_extra["lepton"]["session_id"] != sid
    keyed = OpenAI(
        base_url=f"{live.url}/v1",
        api_key=live.widget_key,
        default_headers={"Origin": ORIGIN},
        max_retries=0,
        timeout=60,
    )
    theirs = keyed.chat.completions.create(
        model="lepton", user="cust-42", messages=[{"role": "user", "content": "How long do refunds take?"}]
    )
    assert theirs.model_extra["lepton"]["session_id"] != sid
    # Both turns of cust-42 are in one session, and the user id itself is stored nowhere.
    history = httpx.get(f"{live.url}/v1/sessions/{sid}", timeout=30).json()
    assert [t["message"] for t in history["turns"]][:2] == [
        "How long do refunds take?",
        "and how much is express?",
    ]
    store = live.assistant.live_store()
    ref = store.session(sid).user_ref
    assert ref and "cust-42" not in ref


def test_usage_counts_the_prompt_and_the_reply(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="lepton", messages=[{"role": "user", "content": "How much is express shipping?"}]
    )
    u = completion.usage
    assert u is not None and u.prompt_tokens == 6  # How much is express shipping ?
    assert u.completion_tokens >= len(completion.choices[0].message.content.split())
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens
    stream = client.chat.completions.create(
        model="lepton",
        stream=True,
        messages=[{"role": "user", "content": "How much is express shipping?"}],
    )
    last = [chunk for chunk in stream][-1]
    assert last.usage is not None and last.usage.prompt_tokens == 6 and last.usage.completion_tokens > 0


def test_an_unknown_model_is_a_404_as_openai_answers(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "refunds?"}])
    assert err.value.body["code"] == "model_not_found" or err.value.response.json()["error"]["code"] == (
        "model_not_found"
    )
