"""Two `lepton serve` replicas, each on its own home, on one PostgreSQL: a conversation started on one continues
on the other with its context (a slot question answered there, a handoff and the agent's reply), a key created
through one works on the other and its revocation is refused there at once, and analytics read on either
count both replicas' turns. (The Chroma server is left to benchmarks/replicas.py: filling it costs an embedding
of the whole knowledge base, and the vectors play no part in what is checked here.)"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant import messages

pytestmark = pytest.mark.slow


@dataclass
class Pair:
    one: str  # base URLs
    two: str
    home_one: Path
    env: dict[str, str]
    admin: dict[str, str]  # an admin key's header, the key made through replica one


def _chat(url: str, message: str, session_id: str | None = None) -> dict:
    r = httpx.post(f"{url}/v1/chat", json={"message": message, "session_id": session_id}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def pair(launch, trained_home: Path, postgres_server, run_cli, tmp_path_factory) -> Iterator[Pair]:
    """Two replicas started together on one fresh database and one shared artifact folder."""
    from knowledge.database import dispose_engines

    name = f"replicas_{os.getpid()}_{secrets.token_hex(3)}"
    url = postgres_server.create_database(name)
    shared = tmp_path_factory.mktemp("replica-artifacts")
    shutil.copytree(trained_home / "models" / "intents", shared / "intents")
    env = {
        "LEPTON_DATABASE_URL": url,
        "LEPTON_KEY_PEPPER": secrets.token_urlsafe(32),
        "LEPTON_ARTIFACT_DIR": str(shared),
        "LEPTON_DEMO": "true",  # a knowledge base in the empty database gets the demo's (the homes' own have it)
    }
    one, two = launch(env=env, start=False, name="replica-1"), launch(env=env, start=False, name="replica-2")
    try:
        one.start()  # the first fills what the database lacks; the second finds it there
        two.start()
        made = run_cli("keys", "create", "--kind", "admin", "--name", "desk", home=one.home, env=env)
        assert made.returncode == 0, made.stderr
        admin = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
        yield Pair(one.url, two.url, one.home, env, admin)
    finally:
        one.stop()
        two.stop()
        dispose_engines()
        postgres_server.drop_database(name)


def test_a_slot_question_asked_on_one_replica_is_answered_on_the_other(pair: Pair) -> None:
    asked = _chat(pair.one, "I'd like to cancel my order")
    assert "order number" in asked["reply"], asked
    sid = asked["session_id"]
    # The bare number means something only with the first turn's context, which lives in the database.
    answered = _chat(pair.two, "KH-20481937", sid)
    assert answered["session_id"] == sid and answered["route"] == "template", answered
    assert answered["intent"]["name"] == "cancel_order" and "KH-20481937" in answered["reply"]
    later = _chat(pair.one, "How can I track my order status?", sid)  # the slot is remembered
    assert "KH-20481937" in later["reply"], later
    history = httpx.get(f"{pair.two}/v1/sessions/{sid}", timeout=30).json()
    assert [t["message"] for t in history["turns"]] == [
        "I'd like to cancel my order",
        "KH-20481937",
        "How can I track my order status?",
    ]


def test_a_handoff_on_one_replica_is_handed_off_on_the_other_and_the_agents_reply_reaches_the_customer(
    pair: Pair,
) -> None:
    first = _chat(pair.one, "I want to talk to a real person please")
    assert first["route"] == "handoff", first
    sid = first["session_id"]
    told = _chat(pair.two, "hello? my order is late", sid)  # the other replica knows it is waiting
    assert told["route"] == "handoff" and told["reply"] == messages.text("handoff_waiting", "en"), told
    assert _chat(pair.one, "anyone there?", sid)["reply"] == ""  # told once, whichever replica answers

    waiting = httpx.get(f"{pair.two}/v1/admin/handoffs", headers=pair.admin, timeout=30).json()["sessions"]
    assert sid in [s["id"] for s in waiting]
    sent = httpx.post(
        f"{pair.two}/v1/admin/sessions/{sid}/reply",
        json={"text": "Hi, Sam here.", "agent": "sam"},
        headers=pair.admin,
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    # The customer's widget polls the other replica.
    seen = httpx.get(f"{pair.one}/v1/sessions/{sid}", timeout=30).json()
    assert seen["status"] == "handoff"
    assert [(m["agent"], m["text"]) for m in seen["messages"]] == [("sam", "Hi, Sam here.")]
    assert httpx.post(f"{pair.one}/v1/admin/sessions/{sid}/close", headers=pair.admin, timeout=30).is_success
    closed = httpx.get(f"{pair.two}/v1/sessions/{sid}", timeout=30).json()
    assert closed["status"] == "closed" and closed["messages"][-1]["text"] == messages.text(
        "handoff_closed", "en"
    )


def test_a_key_made_through_one_replica_works_on_the_other_until_revoked_there(pair: Pair, run_cli) -> None:
    made = run_cli("keys", "create", "--kind", "admin", "--name", "temp", home=pair.home_one, env=pair.env)
    assert made.returncode == 0, made.stderr
    key = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}
    assert httpx.get(f"{pair.two}/v1/admin/handoffs", headers=key, timeout=30).status_code == 200
    listed = run_cli("keys", "list", "--json", home=pair.home_one, env=pair.env)
    key_id = next(k["id"] for k in json.loads(listed.stdout) if k["name"] == "temp")
    revoked = run_cli("keys", "revoke", key_id, home=pair.home_one, env=pair.env)
    assert revoked.returncode == 0, revoked.stderr
    started = time.monotonic()
    refused = httpx.get(f"{pair.two}/v1/admin/handoffs", headers=key, timeout=30)
    # The first request after the revocation is refused (a revoked key authenticates no one: 401, as on one
    # server).
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers.get("www-authenticate") == "Bearer"
    print(
        f"revoked key refused by the other replica on its first request ({time.monotonic() - started:.3f} s)"
    )
    assert httpx.get(f"{pair.two}/v1/admin/handoffs", headers=pair.admin, timeout=30).status_code == 200


def test_analytics_on_either_replica_count_both_replicas_turns(pair: Pair) -> None:
    def total(url: str) -> int:
        r = httpx.get(f"{url}/v1/admin/analytics", params={"days": 0}, headers=pair.admin, timeout=60)
        assert r.status_code == 200, r.text
        return sum(r.json()["routes"].values())

    before = total(pair.one)
    assert total(pair.two) == before
    for url, n in ((pair.one, 2), (pair.two, 3)):
        sid = None
        for _ in range(n):
            sid = _chat(url, "how do I reset my password", sid)["session_id"]
    assert total(pair.one) == total(pair.two) == before + 5


def test_a_retry_on_the_other_replica_gets_the_turn_already_answered(pair: Pair) -> None:
    """A replica answered (and logged) a turn whose reply never reached the client; the client's retry, with the
    same client_message_id, lands on the other replica and gets that turn, not a second answer."""
    body = {"message": "I'd like to cancel my order", "client_message_id": secrets.token_hex(16)}
    lost = httpx.post(f"{pair.one}/v1/chat", json=body, timeout=120).json()
    retried = httpx.post(f"{pair.two}/v1/chat", json=body, timeout=120)
    assert retried.status_code == 200 and retried.json() == lost
    streamed = httpx.post(f"{pair.two}/v1/chat", json={**body, "stream": True}, timeout=120)
    assert f'"message_id": "{lost["message_id"]}"' in streamed.text.split("event: final", 1)[1]
    history = httpx.get(f"{pair.two}/v1/sessions/{lost['session_id']}", timeout=30).json()
    assert [t["id"] for t in history["turns"]] == [lost["message_id"]]
    reused = httpx.post(f"{pair.two}/v1/chat", json={**body, "message": "KH-20481937"}, timeout=120)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "conflict"
