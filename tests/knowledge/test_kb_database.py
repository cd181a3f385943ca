"""The knowledge base's store on SQLite (kb.db) and on PostgreSQL (`database_url`): ingest, publish, rollback,
versions and audit behave the same on both; two replicas on one PostgreSQL share one knowledge base."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from knowledge import Embedder, KnowledgeBase
from knowledge.database import open_engine
from knowledge.kb_tables import metadata
from knowledge.store import LIVE_CHECK_S
from knowledge.versions import NothingToPublish, UnknownVersion

from .conftest import lamp_document, write_corpus


def _kb(home: Path, minilm: Embedder, database_url: str | None) -> KnowledgeBase:
    return KnowledgeBase(home, embedder=minilm, multilingual=False, database_url=database_url)


def _refund(answer: str, language: str = "en") -> dict:
    return {
        "id": f"refund-{language}",
        "intent": "refund",
        "language": language,
        "title": "Refunds",
        "answer": answer,
    }


def test_ingest_publish_rollback_versions_and_audit(
    tmp_path: Path, minilm: Embedder, database_url: str | None
) -> None:
    docs = write_corpus(tmp_path / "docs")
    kb = _kb(tmp_path / "kb", minilm, database_url)
    report = kb.ingest([docs], actor="setup")
    assert report.errors == [] and report.added == 4 and report.version == 1
    assert kb.stats() == {"documents": 3, "chunks": 3, "templates": 2, "version": 1, "draft_changes": 0}
    assert kb.search("do you ship to Canada", k=1)[0].uri.endswith("shipping.md")
    assert (
        "shipping.md"
        in next(iter(kb.store.units(list(kb.store.lexical("Canada express", 5))).values()))["uri"]
    )
    assert kb.ingest([docs]).unchanged == 4  # the same files again: nothing staged, nothing published

    kb.upsert_template(_refund("Refunds reach your card within 5 business days."), actor="alice")
    assert kb.get_template("refund-en") is None and [c["change"] for c in kb.draft_changes()] == ["added"]
    assert kb.publish("alice", note="refunds")["version"] == 2
    kb.upsert_template(_refund("Refunds reach your card within 3 business days."), actor="bob")
    kb.publish("bob")
    assert "3 business days" in kb.get_template("refund-en").answer
    with pytest.raises(NothingToPublish):
        kb.publish("bob")

    assert kb.rollback(2, actor="carol")["version"] == 2
    assert kb.live_version() == 2 and "5 business days" in kb.get_template("refund-en").answer
    assert kb.draft_changes() == []
    with pytest.raises(UnknownVersion):
        kb.rollback(9, actor="carol")
    versions = kb.versions()
    assert [(v["version"], v["actor"], v["live"]) for v in versions] == [
        (3, "bob", False),
        (2, "alice", True),
        (1, "setup", False),
    ]
    assert versions[0]["changes"] == "1 template changed" and versions[1]["summary"] == "refunds"
    audit = kb.audit(5)
    assert [(a["action"], a["actor"], a["target"]) for a in audit[:2]] == [
        ("rollback", "carol", "v2"),
        ("publish", "bob", "v3"),
    ]
    assert audit[0]["detail"] == {"from": 3} and audit[0]["id"] > audit[1]["id"]
    # Templates held for translation and twins' marks live in the same database.
    kb.draft_answer("refund", "en", "Refunds", "Refunds reach your card within 4 business days.", "dana")
    assert {n["id"] for n in kb.needs_update()} == {"tpl-refund-zh"}  # held for its translation

    kb.close()
    again = _kb(tmp_path / "kb", minilm, database_url)  # reopened: the same state
    assert again.live_version() == 2 and len(again.versions()) == 3 and again.draft_changes()


def test_tables_match_the_baseline(tmp_path: Path, database_url: str | None) -> None:
    """The migration makes what kb_tables.py declares: columns, primary keys and index names."""
    from knowledge.store import Store

    store = Store(tmp_path / "kb.db", database_url)
    engine = open_engine(database_url, tmp_path / "kb.db")
    try:
        inspector = sa.inspect(engine)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
            pk = inspector.get_pk_constraint(table.name)["constrained_columns"]
            assert set(pk) == {c.name for c in table.primary_key.columns}, table.name
            indexes = {ix["name"]: bool(ix["unique"]) for ix in inspector.get_indexes(table.name)}
            assert {ix.name: bool(ix.unique) for ix in table.indexes}.items() <= indexes.items(), table.name
        assert inspector.has_table("units_fts") == (database_url is None)
    finally:
        engine.dispose()
        store.close()


def test_two_replicas_share_one_knowledge_base(tmp_path: Path, minilm: Embedder, postgres_url: str) -> None:
    """Two KnowledgeBase objects with their own homes on one PostgreSQL (each its own engine and pool): what
    one publishes or rolls back, it serves at once and the other within LIVE_CHECK_S."""
    one = _kb(tmp_path / "one", minilm, postgres_url)
    two = _kb(tmp_path / "two", minilm, f"{postgres_url}?application_name=replica-two")
    assert one.ingest([write_corpus(tmp_path / "docs")], actor="setup").version == 1
    assert two.live_version() == 1 and {t.id for t in two.templates()} == {"greeting-en", "order-status-en"}
    assert two.store.lexical("express shipping Canada", 3)
    assert not two.store.lexical("lighthouse lamp adapter", 3)

    one.upsert_template(_refund("Our lighthouse lamp ships with an adapter."), actor="alice")
    assert two.get_template("refund-en") is None and len(two.draft_changes()) == 1  # one draft, shared
    one.publish("alice")
    assert one.live_version() == 2 and one.get_template("refund-en") is not None
    served(two, 2)
    assert two.get_template("refund-en") is not None
    found = two.store.lexical("lighthouse lamp adapter", 3)
    assert list(found) and next(iter(found)).startswith("tpl:refund-en@")
    assert [v["version"] for v in two.versions()] == [2, 1]

    two.rollback(1, actor="bob")
    assert two.live_version() == 1
    served(one, 1)
    assert one.get_template("refund-en") is None
    assert not one.store.lexical("lighthouse lamp adapter", 3)
    assert one.audit(1)[0]["action"] == "rollback" and one.audit(1)[0]["actor"] == "bob"


def served(kb: KnowledgeBase, version: int) -> None:
    """Wait until `kb` serves `version`: within LIVE_CHECK_S (plus a loaded machine's slack)."""
    started = time.monotonic()
    while kb.live_version() != version:
        assert time.monotonic() - started < LIVE_CHECK_S + 5, f"version {version} not served"
        time.sleep(0.05)


def test_a_turns_live_reads_cost_no_round_trip_on_postgresql(
    tmp_path: Path, minilm: Embedder, postgres_url: str
) -> None:
    """The live pointer is read at most every LIVE_CHECK_S and what a version holds once: a template turn's
    repeated reads (templates, one template, slots) send no statement to the server."""
    kb = _kb(tmp_path / "one", minilm, postgres_url)
    kb.ingest([write_corpus(tmp_path / "docs")], actor="setup")
    first = {t.id for t in kb.templates()}
    statements: list[str] = []

    def count(conn, cursor, statement, *rest) -> None:
        statements.append(statement)

    sa.event.listen(kb.store.db.engine, "before_cursor_execute", count)
    try:
        time.sleep(LIVE_CHECK_S)  # the pointer is read again once; then everything is held
        for _ in range(5):
            assert {t.id for t in kb.templates()} == first
            assert kb.get_template("greeting-en") is not None and kb.live_version() == 1
            kb.slots()
    finally:
        sa.event.remove(kb.store.db.engine, "before_cursor_execute", count)
    assert len(statements) <= 3, statements


def test_an_ingest_keeps_other_replicas_from_writing(tmp_path: Path, postgres_url: str) -> None:
    """While one replica ingests (`Store.exclusive`), its own writes go through and another replica's wait for
    the end; a replica's write never waits on its own ingest."""
    from knowledge.store import Store

    one = Store(tmp_path / "one.db", postgres_url)
    two = Store(tmp_path / "two.db", f"{postgres_url}?application_name=replica-two")
    doc, unit = lamp_document()
    done: list[float] = []
    with one.exclusive():
        one.stage_document(doc, [unit], "one", "ingest")
        worker = threading.Thread(
            target=lambda: (two.unstage_document("d1", "two"), done.append(time.monotonic()))
        )
        worker.start()
        worker.join(1.5)
        assert worker.is_alive() and two.document("d1") is not None  # waiting for the ingest
        one.log.publish("one")
        released = time.monotonic()
    worker.join(30)
    assert done and done[0] >= released and two.document("d1") is None
    assert [a["action"] for a in one.log.audit(3)] == ["delete", "publish", "ingest"]
    one.close()
    two.close()
