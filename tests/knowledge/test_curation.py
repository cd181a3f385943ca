"""Drafts, publish, rollback and the audit log, on real SQLite + Chroma (and a kill -9 mid-ingest)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from knowledge import Embedder, KnowledgeBase, Template
from knowledge.versions import NothingToPublish, UnknownVersion

from .conftest import write_corpus

ROOT = Path(__file__).resolve().parents[2]


def _uris(hits) -> list[str]:
    return [Path(h.uri).name for h in hits]


def test_draft_publish_rollback_and_audit(tmp_path: Path, minilm: Embedder) -> None:
    docs = write_corpus(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    report = kb.ingest([docs], actor="alice")
    assert report.version == 1 and kb.stats()["version"] == 1 and kb.draft_changes() == []
    [v1] = kb.versions()
    assert v1["live"] and v1["actor"] == "alice" and v1["documents"] == 3 and v1["templates"] == 2

    shipping = next(d for d in kb.documents() if d["uri"].endswith("shipping.md"))
    assert "Express shipping" in kb.document(shipping["id"])["text"]
    kb.edit_document(
        shipping["id"], "# Shipping\n\nWe deliver by drone to Mars colonies within a week.\n", actor="bob"
    )
    changes = kb.draft_changes()
    assert [(c["id"], c["change"]) for c in changes] == [(shipping["id"], "changed")]
    assert next(d for d in kb.documents() if d["id"] == shipping["id"])["change"] == "changed"
    assert not any(
        "drone" in h.text for h in kb.search("can you deliver to Mars by drone?", k=3)
    )  # draft only
    assert any("Express" in h.text for h in kb.search("express shipping price", k=3))

    kb.upsert_template(
        Template("greeting-en", "greeting", "en", "Greeting", "Hello there, {name}!"), actor="bob"
    )
    kb.upsert_template(
        {
            "id": "gift-en",
            "intent": "gift_cards",
            "language": "en",
            "title": "Gift cards",
            "answer": "Gift cards never expire.",
        },
        actor="bob",
    )
    assert kb.get_template("greeting-en").answer.startswith("Hi") and kb.get_template("gift-en") is None
    with pytest.raises(ValueError):
        kb.upsert_template(
            {"id": "x", "intent": "", "language": "en", "title": "t", "answer": "a"}, actor="bob"
        )

    v2 = kb.publish("bob", note="drone shipping")
    assert v2["version"] == 2 and kb.stats()["version"] == 2 and kb.draft_changes() == []
    hit = kb.search("can you deliver to Mars by drone?", k=1)[0]
    assert hit.uri.endswith("shipping.md") and "drone" in hit.text
    assert not any("Express" in h.text for h in kb.search("express shipping price", k=5))
    assert kb.get_template("greeting-en").answer == "Hello there, {name}!"
    assert kb.get_template("gift-en").intent == "gift_cards"
    assert kb.search("do gift cards expire?", kinds={"template"})[0].id == "gift-en"
    with pytest.raises(NothingToPublish):
        kb.publish("bob")

    gone = kb.delete(next(d["uri"] for d in kb.documents() if d["uri"].endswith("returns.md")), actor="carol")
    assert gone["deleted"] == "document"
    assert kb.delete("gift-en", actor="carol")["deleted"] == "template"
    with pytest.raises(KeyError):
        kb.delete("no-such-thing", actor="carol")
    assert "returns.md" in _uris(kb.search("how do I return an item for a refund?", k=3))  # still live
    kb.publish("carol")
    assert "returns.md" not in _uris(kb.search("how do I return an item for a refund?", k=3))
    assert kb.get_template("gift-en") is None and kb.stats()["documents"] == 2

    back = kb.rollback(1, actor="dave")
    assert back["version"] == 1 and [v["version"] for v in kb.versions() if v["live"]] == [1]
    assert any("Express" in h.text for h in kb.search("express shipping price", k=3))
    assert "returns.md" in _uris(kb.search("how do I return an item for a refund?", k=3))
    assert kb.get_template("greeting-en").answer.startswith("Hi") and kb.get_template("gift-en") is None
    assert kb.draft_changes() == [] and "Express" in kb.document(shipping["id"])["text"]  # draft reset to v1
    with pytest.raises(UnknownVersion):
        kb.rollback(99, actor="dave")

    reopened = KnowledgeBase(tmp_path / "kb", embedder=minilm)  # the pointer and flags persist
    assert any("Express" in h.text for h in reopened.search("express shipping price", k=3))
    kb.rollback(2, actor="dave")
    assert "drone" in kb.search("can you deliver to Mars by drone?", k=1)[0].text

    entries = kb.audit(100)
    actions = [(e["actor"], e["action"]) for e in reversed(entries)]
    for expected in [
        ("alice", "ingest"),
        ("alice", "publish"),
        ("bob", "edit"),
        ("bob", "upsert_template"),
        ("bob", "publish"),
        ("carol", "delete"),
        ("carol", "delete_template"),
        ("dave", "rollback"),
    ]:
        assert expected in actions
    assert all(e["at"] > 0 and e["target"] for e in entries)
    assert kb.audit(2) == entries[:2]


def test_staged_ingest_is_invisible_until_published(tmp_path: Path, minilm: Embedder) -> None:
    docs = write_corpus(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    report = kb.ingest([docs], publish=False)
    assert report.added == 4 and report.version is None
    assert kb.search("do you ship to Canada") == [] and kb.templates() == [] and kb.versions() == []
    assert {c["change"] for c in kb.draft_changes()} == {"added"} and len(kb.documents()) == 4
    kb.publish("ops")
    assert kb.search("do you ship to Canada", k=1)[0].uri.endswith("shipping.md")
    assert len(kb.templates()) == 2


def test_schema_1_database_is_refused_untouched(tmp_path: Path, minilm: Embedder) -> None:
    home = tmp_path / "kb"
    home.mkdir()
    con = sqlite3.connect(home / "kb.db")
    con.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        INSERT INTO meta VALUES ('schema', '1'), ('version', '3');
        CREATE TABLE documents (id TEXT PRIMARY KEY, uri TEXT, kind TEXT, title TEXT, language TEXT, tags TEXT,
            hash TEXT, size INTEGER, chunks INTEGER, ingested_at FLOAT);
        CREATE UNIQUE INDEX idx_documents_uri ON documents (uri);
        CREATE TABLE units (id TEXT PRIMARY KEY, doc_id TEXT, kind TEXT, ord INTEGER, title TEXT, heading TEXT,
            text TEXT, language TEXT, tags TEXT, intent TEXT, uri TEXT, ref TEXT);
        CREATE TABLE templates (id TEXT PRIMARY KEY, doc_id TEXT, intent TEXT, language TEXT, title TEXT, answer TEXT);
        CREATE VIRTUAL TABLE units_fts USING fts5(unit_id UNINDEXED, title, heading, body);
        INSERT INTO documents VALUES ('d1', '/x/lamps.md', 'document', 'Lamps', 'en', '[]', 'h', 10, 1, 0);
        INSERT INTO units VALUES ('d1-0000', 'd1', 'document', 0, 'Lamps', '', 'Our lighthouse lamps ship with a
            universal power adapter.', 'en', '[]', NULL, '/x/lamps.md', NULL);
    """)
    con.commit()
    con.close()
    # Refused, not migrated (the previous release migrates schema 1; this one adopts schema 2 only), and
    # left as it was: the same rows, no alembic_version.
    with pytest.raises(
        RuntimeError, match="kb.db has schema 1 .* open the home once with the previous release"
    ):
        KnowledgeBase(home, embedder=minilm).search("does the lighthouse lamp come with an adapter?")
    with sqlite3.connect(home / "kb.db") as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("1",)
        assert con.execute("SELECT id FROM units").fetchall() == [("d1-0000",)]
        assert con.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchall() == []


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import knowledge.ingestion
    from knowledge import KnowledgeBase, make_embedder

    knowledge.ingestion.INGEST_BATCH_FILES = 1  # one file per embedding call, so the kill lands mid-ingest
    emb = make_embedder("minilm")
    slow = emb.embed_passages
    def embed(texts):
        time.sleep(0.3)
        return slow(texts)
    emb.embed_passages = embed
    KnowledgeBase(Path(sys.argv[1]), embedder=emb).ingest([Path(sys.argv[2])])
""")


def test_kill9_during_ingest_keeps_the_published_version(tmp_path: Path, minilm: Embedder) -> None:
    docs = write_corpus(tmp_path / "docs")
    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    kb.ingest([docs])
    # Close our Chroma clients before another process writes (embedded Chroma is one-process).
    kb.close()
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(40):
        (archive / f"lamp-{i:02d}.md").write_text(
            f"# Lamp {i}\n\nThe KH-LAMP-{i:03d} lighthouse lamp has a "
            f"{i}-watt bulb and a universal power adapter.\n"
        )
    db = tmp_path / "kb" / "kb.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "kb"), str(archive)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 240
    staged = 0
    while staged < 3:
        assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
        assert time.time() < deadline, "the ingest never got going"
        time.sleep(0.1)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
                staged = con.execute(
                    "SELECT count(*) FROM documents WHERE uri LIKE ?", [f"{archive}%"]
                ).fetchone()[0]
        except sqlite3.Error:
            staged = 0
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)

    kb = KnowledgeBase(tmp_path / "kb", embedder=minilm)
    assert kb.stats()["version"] == 1 and kb.stats()["documents"] == 3
    assert kb.search("do you ship to Canada", k=1)[0].uri.endswith("shipping.md")
    assert not any("lamp-" in h.uri for h in kb.search("lighthouse lamp power adapter", k=5))  # staged only
    assert 3 <= len(kb.draft_changes()) < 40
    report = kb.ingest([archive])
    assert not report.errors and report.added + report.unchanged == 40 and report.version == 2
    assert kb.stats()["documents"] == 43
    assert kb.search("KH-LAMP-037 lighthouse lamp", k=3)
    units = {i for i, u in kb.store.units(sorted(kb.store.all_revs())).items() if u["kind"] != "slot"}
    assert kb.vectors.ids() | kb.ml_vectors.ids() == units and kb.draft_changes() == []
