"""`client_message_id` on POST /v1/chat, plain and streamed, over real HTTP on SQLite and PostgreSQL: a retry
gets the same turn (logged once), the key reused for another message is 409 `conflict` (before any stream
starts), and a key of the wrong shape is a 422 in the API's error shape."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.conversations import ConversationStore
from tests.ui.http.conftest import serve, variant
from training.review import ReviewQueue

ASK = "How long do refunds take?"


@pytest.fixture
def chat(api_assistant: Any, database_url: str | None, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A server whose conversation log is this test's own (SQLite file or PostgreSQL database)."""
    from ui.http.app import create_api

    assistant = variant(api_assistant, rate_limit_per_minute=100_000)
    assistant.store = ConversationStore(tmp_path / "c.db", database_url=database_url)
    assistant.review = ReviewQueue(tmp_path / "review.db", database_url=database_url)
    with serve(create_api(assistant)) as url:
        yield f"{url}/v1/chat", assistant
    assistant.store.close()
    assistant.review.close()


def events(body: str) -> list[tuple[str, dict]]:
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_a_retried_message_is_answered_and_logged_once(chat: tuple[str, Any]) -> None:
    url, assistant = chat
    key = uuid.uuid4().hex
    first = httpx.post(url, json={"message": ASK, "client_message_id": key}, timeout=60)
    assert first.status_code == 200 and first.json()["sources"]
    again = httpx.post(url, json={"message": ASK, "client_message_id": key}, timeout=60)
    assert again.status_code == 200 and again.json() == first.json()

    streamed = httpx.post(url, json={"message": ASK, "client_message_id": key, "stream": True}, timeout=60)
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    got = events(streamed.text)
    assert got[-1] == ("final", first.json())
    assert "".join(d["text"] for kind, d in got if kind == "token") == first.json()["reply"]
    assert assistant.store.counts() == {"turns": 1, "sessions": 1}


def test_a_key_reused_for_another_message_is_a_conflict_and_a_bad_key_is_refused(
    chat: tuple[str, Any],
) -> None:
    url, assistant = chat
    key = "retry_key-0123456789"
    sid = httpx.post(url, json={"message": ASK, "client_message_id": key}, timeout=60).json()["session_id"]
    for stream in (False, True):
        body = {"message": "And shipping?", "session_id": sid, "client_message_id": key, "stream": stream}
        r = httpx.post(url, json=body, timeout=60)
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict", r.text
    for bad in ["short", "x" * 129, "has space in it 1234", "ünïcode-0123456789", 1234567890123456789]:
        r = httpx.post(url, json={"message": ASK, "client_message_id": bad}, timeout=60)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", (bad, r.text)
        assert "client_message_id" in r.json()["error"]["message"]
    assert assistant.store.counts()["turns"] == 1
