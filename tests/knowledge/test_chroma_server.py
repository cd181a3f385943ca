"""`chroma_url` / LEPTON_CHROMA_URL: the knowledge base against a real `chroma run` server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knowledge import Embedder, KnowledgeBase

from .conftest import write_corpus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        pytest.skip("the chroma CLI is not installed in this environment")
    port = _free_port()
    log = (tmp_path / "chroma.log").open("w")
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
        log.close()


def test_ingest_search_publish_and_reindex_through_a_chroma_server(
    tmp_path: Path, minilm: Embedder, chroma_url: str
) -> None:
    import chromadb

    docs = write_corpus(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm, chroma_url=chroma_url)
    assert kb.ingest([docs]).errors == []
    assert not (tmp_path / "kb" / "chroma").exists()  # vectors live on the server, not in the home
    hit = kb.search("how long until I get my refund?", k=1)[0]
    assert hit.uri.endswith("returns.md")

    host, port = chroma_url.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.split("//")[1], port=int(port))
    # MiniLM's collection, and multilingual-e5's for the Chinese article (MiniLM reads English only).
    stored = [client.get_collection(getattr(c, "name", c)) for c in client.list_collections()]
    assert sorted(c.name for c in stored) == ["lepton-e5-384", "lepton-minilm-384"]
    assert sum(c.count() for c in stored) == kb.stats()["chunks"] + kb.stats()["templates"]

    shipping = next(d for d in kb.documents() if d["uri"].endswith("shipping.md"))
    kb.edit_document(shipping["id"], "# Shipping\n\nWe deliver by drone to Mars colonies.\n", actor="ops")
    assert not any("drone" in h.text for h in kb.search("deliver to Mars by drone", k=3))  # a draft
    kb.publish("ops")
    assert "drone" in kb.search("deliver to Mars by drone", k=1)[0].text
    live = [i for c in stored for i in c.get(where={"live": True}, include=[])["ids"]]
    searchable = [i for i, u in kb.store.units(sorted(kb.store.live_revs())).items() if u["kind"] != "slot"]
    assert sorted(live) == sorted(searchable)  # slot declarations are stored, not embedded

    assert kb.reindex() == kb.stats()["chunks"] + kb.stats()["templates"]
    again = KnowledgeBase(tmp_path / "kb", embedder=minilm, chroma_url=chroma_url)
    assert "drone" in again.search("deliver to Mars by drone", k=1)[0].text
    assert not any("Express" in h.text for h in again.search("express shipping price", k=5))


def test_a_chroma_server_down_at_start_leaves_lexical_search_then_recovers(
    tmp_path: Path, minilm: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import knowledge.vector_sync as vector_sync_module

    docs = write_corpus(tmp_path / "docs")
    KnowledgeBase(tmp_path / "kb", embedder=minilm).ingest([docs])  # built with embedded Chroma
    port = _free_port()  # nothing listens there: the server is "down" when the assistant starts
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm, chroma_url=f"http://127.0.0.1:{port}")
    kb.warm_up()  # must not raise: the assistant would never become ready
    assert not kb.vector_sync.synced
    hits = kb.search("return items within 30 days for a full refund")
    assert hits and hits[0].snippet  # answered from SQLite FTS5
    # The sync is retried, not on every query: a query inside the retry interval does not call it.
    calls: list[int] = []
    monkeypatch.setattr(kb.vector_sync, "sync", lambda store: calls.append(1))
    kb.search("refund")
    assert calls == []
    monkeypatch.setattr(vector_sync_module, "SYNC_RETRY_S", 0.0)
    kb.vector_sync.retry_at = 0.0
    kb.search("refund")
    assert calls == [1] and kb.vector_sync.synced  # the (stubbed) sync succeeded: back to normal
