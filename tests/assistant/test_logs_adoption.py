"""A home made by the previous release (conversations.db and review.db written by sqlite-utils, no
alembic_version): the new stores adopt the tables as they are, every row stays, and conversations, feedback,
analytics, the agent's desk and the review queue carry on where they were."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import analytics
from assistant.conversations import CLOSED, HANDOFF, ConversationStore
from assistant.feedback import FeedbackStore
from training.generator_pairs import PairSources, collect_pairs
from training.review import CONFIRMED, ReviewQueue

ROOT = Path(__file__).resolve().parents[2]
# Dumped from a home made on main at e9a0cd5 (see the files' first lines): three sessions (one mid-conversation
# with a topic, a slot and a pending question; one handed off to dana, told once, with an agent message; one
# closed), four turns, two ratings, three review items (two copies of one question, one confirmed).
DUMPS = {
    "conversations.db": Path(__file__).with_name("conversations_previous_release.sql"),
    "review.db": Path(__file__).with_name("review_previous_release.sql"),
}
LOG_TABLES = ("sessions", "turns", "agent_messages", "feedback")


def previous_release_home(home: Path) -> Path:
    home.mkdir(parents=True)
    for name, dump in DUMPS.items():
        with sqlite3.connect(home / name) as conn:
            conn.executescript(dump.read_text())
    return home


def rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute(sql))


def test_the_conversation_log_of_a_previous_release_is_adopted(tmp_path: Path) -> None:
    home = previous_release_home(tmp_path / "home")
    db = home / "conversations.db"
    before = {t: rows(db, f"SELECT * FROM {t} ORDER BY 1") for t in LOG_TABLES}
    assert rows(db, "SELECT name FROM sqlite_master WHERE name = 'alembic_version'") == []

    store = ConversationStore(db, session_ttl_s=1e12)
    # Adopted, not rebuilt: the same rows, brought to the conversations branch's head (the baseline, then the
    # client_message_id column, NULL in every old turn).
    adopted = {t: rows(db, f"SELECT * FROM {t} ORDER BY 1") for t in LOG_TABLES}
    assert adopted == {**before, "turns": [(*r, None) for r in before["turns"]]}
    assert rows(db, "SELECT version_num FROM alembic_version") == [("conversations_0002",)]

    # Each conversation continues with its context.
    open_ = store.session("s1-open")
    assert (open_.topic, open_.slots, open_.failures, open_.offer) == (
        "where is my order",
        {"order_id": "KH-20481937"},
        1,
        "handoff",
    )
    assert open_.pending == {"template_id": "t-status", "slot": "email", "intent": "order_status"}
    waiting = store.session("s2-handoff")
    assert (waiting.status, waiting.agent, waiting.told_waiting, waiting.language) == (
        HANDOFF,
        "dana",
        True,
        "zh",
    )
    assert store.session_for_user("digest-cust-42").id == "s2-handoff"
    assert [m["text"] for m in store.agent_messages("s2-handoff")] == ["您好，我是Dana。"]
    assert store.session("s3-closed").status == CLOSED
    assert [t["id"] for t in store.history("s1-open")] == ["turn-1", "turn-2"]
    assert store.turn("turn-1")["sources"][0]["uri"] == "template:t-status"

    # Feedback, analytics and the admin's reads over the old rows.
    assert FeedbackStore(store).counts() == {"up": 1, "down": 1}
    assert store.ratings(["turn-2", "turn-3"]) == {
        "turn-2": {
            "rating": "down",
            "comment": "no help, call me on [PHONE]",
            "updated_at": before["feedback"][0][5],
        }
    }
    summary = analytics.summary(store, days=None)
    assert summary["resolution"]["customer_turns"] == 4 and summary["resolution"]["handoff_sessions"] == 1
    assert summary["feedback"]["up"] == 1 and summary["top_unanswered"][0]["last_turn_id"] == "turn-2"
    assert store.counts() == {"turns": 4, "sessions": 3} and store.count_with_status(HANDOFF) == 1

    # New turns and desk actions write into the old tables.
    open_.slots["email"], open_.pending = "jane@example.com", None
    store.log_turn(open_, {"message": "it's jane@example.com", "reply": "Found it.", "route": "template"})
    assert store.session("s1-open").slots == {"order_id": "KH-20481937", "email": "[EMAIL]"}
    assert store.close_handoff("s2-handoff", "再见！", "dana") is not None
    assert store.session("s2-handoff").status == CLOSED
    store.close()
    assert rows(db, "SELECT count(*) FROM turns") == [(5,)]


def test_the_review_queue_of_a_previous_release_is_adopted(tmp_path: Path) -> None:
    home = previous_release_home(tmp_path / "home")
    before = rows(home / "review.db", "SELECT * FROM items ORDER BY id")
    queue = ReviewQueue(home / "review.db")
    assert rows(home / "review.db", "SELECT * FROM items ORDER BY id") == before
    assert rows(home / "review.db", "SELECT version_num FROM alembic_version") == [("review_0001",)]

    weather = queue.get(1)
    assert weather["copies"] == 2 and weather["reasons"] == "thumbs_down,unanswered"
    assert queue.counts() == {"pending": 2, "confirmed": 1}
    assert queue.training_examples() == (["how do refunds work"], ["refund_policy"])
    done = queue.resolve(1, "out_of_scope", reviewer="erin", same_text=True)
    assert done["status"] == CONFIRMED and done["also_resolved"] == 1
    assert queue.add("turn-5", "do you ship to Canada", "unanswered")
    assert max(i["id"] for i in queue.items(None)) == 4  # ids go on from the old ones
    assert queue.confirmed_turns() == {"turn-2", "turn-x", "turn-4"}

    # The generator's pairs read both stores: the thumbs-up rag reply is one.
    store = ConversationStore(home / "conversations.db")
    pairs = collect_pairs(PairSources(store, queue))
    assert [(p.turn_id, p.question) for p in pairs] == [("turn-4", "how do refunds work")]


def _db_upgrade(home: Path) -> dict[str, dict]:
    run = subprocess.run(
        [sys.executable, "-m", "ui.cli", "db", "upgrade", "--json", "--home", str(home)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return {d["store"]: d for d in json.loads(run.stdout)}


def test_lepton_db_upgrade_adopts_the_logs_once(tmp_path: Path) -> None:
    home = previous_release_home(tmp_path / "home")
    first = _db_upgrade(home)
    heads = {"conversations": "conversations_0002", "review": "review_0001"}
    for store, file in (("conversations", "conversations.db"), ("review", "review.db")):
        assert first[store]["before"] == "" and first[store]["after"] == heads[store]
        assert first[store]["changed"] and first[store]["where"] == str(home / file)
    assert not any(d["changed"] for d in _db_upgrade(home).values())
    assert rows(home / "conversations.db", "SELECT count(*) FROM turns") == [(4,)]


def test_the_migrations_make_the_tables_the_stores_use(database_url: str | None, tmp_path: Path) -> None:
    """Each branch's baseline and its store's Core tables agree: columns, index names, uniqueness."""
    from sqlalchemy import inspect

    from assistant.conversation_tables import metadata as log_tables
    from knowledge.database import close_engine, open_store
    from training.review import metadata as review_tables

    for branch, metadata in (("conversations", log_tables), ("review", review_tables)):
        engine = open_store(database_url, tmp_path / f"{branch}.db", branch)
        schema = inspect(engine)
        for table in metadata.sorted_tables:
            assert {c["name"] for c in schema.get_columns(table.name)} == set(table.c.keys()), table.name
            made = {
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in schema.get_indexes(table.name)
            }
            wanted = {(ix.name, tuple(c.name for c in ix.columns), bool(ix.unique)) for ix in table.indexes}
            assert made == wanted, table.name
        close_engine(engine)


def test_a_log_at_the_baseline_gains_client_message_id(database_url: str | None, tmp_path: Path) -> None:
    """conversations_0001 -> head (conversations_0002) on both dialects: the turns keep their rows, with no key,
    and gain the column and its unique index (NULL any number of times)."""
    from alembic import command
    from sqlalchemy import inspect, text

    from assistant.conversations import DuplicateTurn
    from knowledge.database import close_engine, open_engine
    from knowledge.database.upgrades import alembic_config, current

    path = tmp_path / "conversations.db"
    engine = open_engine(database_url, path)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "conversations_0001")
        conn.execute(
            text("INSERT INTO sessions (id, created_at, updated_at, status) VALUES ('s1', 1, 1, 'open')")
        )
        conn.execute(
            text("INSERT INTO turns (id, session_id, created_at, message) VALUES (:id, 's1', :at, 'hi')"),
            [{"id": "t1", "at": 1}, {"id": "t2", "at": 2}],
        )
    assert "client_message_id" not in {c["name"] for c in inspect(engine).get_columns("turns")}
    close_engine(engine)

    store = ConversationStore(path, database_url=database_url, session_ttl_s=1e12)
    with store.engine.connect() as conn:
        assert current(conn) == {"conversations_0002"}
    indexes = {ix["name"]: ix for ix in inspect(store.engine).get_indexes("turns")}
    assert indexes["idx_turns_client_message_id"]["column_names"] == ["client_message_id"]
    assert indexes["idx_turns_client_message_id"]["unique"]
    assert [(t["id"], t["client_message_id"]) for t in store.history("s1")] == [("t1", None), ("t2", None)]
    session = store.session("s1")
    key = "k" * 16
    store.log_turn(session, {"message": "again", "reply": "", "route": "fallback", "client_message_id": key})
    with pytest.raises(DuplicateTurn):
        store.log_turn(
            session, {"message": "again", "reply": "", "route": "fallback", "client_message_id": key}
        )
    assert store.counts()["turns"] == 3 and store.turn_by_client_id(key)["message"] == "again"
    store.close()
