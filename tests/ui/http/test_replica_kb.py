"""Two `lepton serve` replicas on one PostgreSQL and one `chroma run` server share one knowledge base: a template
published or rolled back through either is what the other answers with, within seconds."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from assistant.keys import KeyStore
from knowledge import KnowledgeBase, demo_paths, make_embedder
from tests.conftest import free_port

QUESTION = "how do I reset my password"
TEMPLATE = "tpl-reset-password-en"


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    """A `chroma run` server of this test's own (as tests/knowledge/test_chroma_server.py starts one)."""
    exe = Path(sys.executable).with_name("chroma")
    port = free_port()
    with (tmp_path / "chroma.log").open("w") as log:
        proc = subprocess.Popen(
            [str(exe), "run", "--path", str(tmp_path / "chroma-data"), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "chroma.log").read_text()[-2000:]
            assert time.time() < deadline, "chroma did not start"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _reply(url: str) -> dict:
    answer = httpx.post(f"{url}/v1/chat", json={"message": QUESTION, "session_id": None}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _seconds_until_reply_has(url: str, text: str, limit_s: float = 30.0) -> float:
    started = time.monotonic()
    while text not in (reply := _reply(url))["reply"]:
        assert time.monotonic() - started < limit_s, f"{url} still answers {reply['reply'][:120]!r}"
        time.sleep(0.2)
    return time.monotonic() - started


def test_a_template_published_on_one_replica_is_served_by_the_other(
    launch, postgres_url: str, chroma_url: str, tmp_path: Path
) -> None:
    # The shared knowledge base: the demo's templates, in PostgreSQL and the Chroma server.
    seed = KnowledgeBase(
        tmp_path / "seed",
        embedder=make_embedder("minilm"),
        chroma_url=chroma_url,
        multilingual=False,
        database_url=postgres_url,
    )
    report = seed.ingest([p for p in demo_paths() if p.is_file()], actor="setup")
    assert report.errors == [] and report.version == 1
    seed.close()
    pepper = secrets.token_urlsafe(32)
    env = {"LEPTON_DATABASE_URL": postgres_url, "LEPTON_KEY_PEPPER": pepper, "LEPTON_CHROMA_URL": chroma_url}
    a, b = (
        launch(env=env, start=False, name="kb-replica-a"),
        launch(env=env, start=False, name="kb-replica-b"),
    )
    try:
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(a.start), pool.submit(b.start)]:
                started.result()
        before = _reply(b.url)
        assert before["route"] == "template" and "valid for 60 minutes" in before["reply"]
        admin = KeyStore(tmp_path / "keys.db", database_url=postgres_url, pepper=pepper.encode()).create(
            "admin"
        )
        auth = {"Authorization": f"Bearer {admin}"}

        edited = {
            "intent": "reset_password",
            "language": "en",
            "title": "Resetting your password",
            "answer": "Use “Forgot password” on the sign-in page: the reset link is valid for 15 minutes.",
        }
        put = httpx.put(f"{a.url}/v1/admin/kb/templates/{TEMPLATE}", json=edited, headers=auth, timeout=60)
        assert put.status_code == 200, put.text
        assert "valid for 60 minutes" in _reply(b.url)["reply"]  # a draft: no replica serves it yet
        asked = time.monotonic()
        published = httpx.post(
            f"{a.url}/v1/admin/kb/publish", json={"note": "15 minutes"}, headers=auth, timeout=60
        )
        assert published.status_code == 200 and published.json()["version"] == 2, published.text
        _seconds_until_reply_has(b.url, "valid for 15 minutes")
        print(f"published through A: B answered with it {time.monotonic() - asked:.2f} s after the ask")

        asked = time.monotonic()
        rolled = httpx.post(f"{b.url}/v1/admin/kb/rollback", json={"version": 1}, headers=auth, timeout=60)
        assert rolled.status_code == 200, rolled.text
        _seconds_until_reply_has(a.url, "valid for 60 minutes")
        print(f"rolled back through B: A answered with it {time.monotonic() - asked:.2f} s after the ask")
        versions = httpx.get(f"{a.url}/v1/admin/kb/versions", headers=auth, timeout=30).json()
        assert [(v["version"], v["live"]) for v in versions["versions"]] == [(2, False), (1, True)]
    finally:
        a.stop()  # before the test's database is dropped
        b.stop()


def test_serve_warns_when_replicas_would_keep_their_own_vectors(tmp_path: Path) -> None:
    from assistant.components import unshared_vectors_warning
    from assistant.config import load_settings

    url = "postgresql://u:pw@db.example.com/lepton"
    assert unshared_vectors_warning(load_settings(home=tmp_path, demo=False)) is None  # one machine
    shared = load_settings(home=tmp_path, demo=False, database_url=url, chroma_url="http://chroma:8000")
    assert unshared_vectors_warning(shared) is None
    warned = unshared_vectors_warning(load_settings(home=tmp_path, demo=False, database_url=url))
    assert warned and "chroma_url" in warned and "pw" not in warned
