"""`lepton db migrate` and `lepton db export`: a home used through the product's own code (conversations with
feedback and a handoff, review items, keys) moves to a real PostgreSQL and back with every row, answers the
same questions the same way there, and the refusals are one line each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.home_moves import file_branches
from knowledge.database import close_engine, dispose_engines, open_engine
from knowledge.database.copying import count_rows, store_tables

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "how do I reset my password",
    "How much is express shipping?",
    "Do gift cards expire?",
    "Can I change the delivery address after ordering?",
    "Do you price match if I find it cheaper elsewhere?",
    "What is your warranty on laptops?",
    "What is your return policy for opened items?",
    "where is my order KH-20481937",
    "can you recommend a good pizza recipe",
    "I want to talk to a human",
]


def lepton(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args, "--home", str(home)],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "1000", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def counts(url: str | None, home: Path) -> dict[str, int]:
    """{"branch.table": rows} of every store with a SQLite file: in `url`, or in `home`'s files."""
    found: dict[str, int] = {}
    for branch, name in file_branches().items():
        engine = open_engine(url, home / name)
        try:
            with engine.connect() as conn:
                found |= {f"{branch}.{t}": n for t, n in count_rows(conn, store_tables(branch)).items()}
        finally:
            close_engine(engine)
    return found


def derived(url: str | None, home: Path) -> int:
    """Units in the KB's lexical index: PostgreSQL's lexicon, or the home's FTS5 table."""
    engine = open_engine(url, home / "kb" / "kb.db")
    try:
        with engine.connect() as conn:
            table = "unit_lexicon" if url else "units_fts"
            return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    finally:
        close_engine(engine)


def answers(settings) -> tuple[list[tuple[str, str]], object]:
    """(route, reply) of each question, each in a new session, from one warmed-up Assistant."""
    from assistant.pipeline import Assistant

    assistant = Assistant(settings)
    assistant.warm_up()
    return [(r.route, r.reply) for r in (assistant.chat(q) for q in QUESTIONS)], assistant


def use_the_home(assistant) -> dict[str, str]:
    """Conversations, feedback, a handoff with agent messages, review items (some resolved) and keys, all
    made by the product's own code; returns the keys (live and revoked)."""
    from assistant.feedback import rate
    from assistant.keys import KeyStore

    store, queue = assistant.store, assistant.review
    first = assistant.chat("How much is express shipping?")
    assistant.chat("and to Canada?", first.session_id)
    rate(assistant, first.message_id, "up")
    second = assistant.chat("Do gift cards expire?")
    rate(assistant, second.message_id, "down", "too short")
    handoff = assistant.chat("I want to talk to a human")
    store.add_agent_message(handoff.session_id, "Hi, Dana here. How can I help?", agent="dana")
    store.add_agent_message(handoff.session_id, "Your refund is on its way.", agent="dana")
    for reply in (first, second, handoff):
        queue.add(reply.message_id, "some text", "low_confidence", session_id=reply.session_id)
    pending = [i["id"] for i in queue.items(status="pending")]
    queue.resolve(pending[0], "shipping_cost", "dana")
    queue.resolve(pending[1], None, "dana")
    keys = KeyStore.from_settings(assistant.settings)
    made = {
        "admin": keys.create("admin", name="ops"),
        "widget": keys.create("widget", ["https://shop.example.com"], name="site"),
        "revoked": keys.create("widget", ["https://old.example.com"], name="old"),
    }
    keys.revoke(keys.verify(made["revoked"]).id)
    keys.close()
    return made


def test_a_used_home_moves_to_postgresql_and_back(
    fresh_home: Path, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.keys import KeyStore
    from training.review import ReviewQueue

    monkeypatch.setenv("LEPTON_GENERATOR__BACKEND", "none")  # replies from templates and retrieval only
    home = fresh_home
    before, sqlite_assistant = answers(load_settings(home=home, demo=True))
    keys = use_the_home(sqlite_assistant)
    sqlite_assistant.store.close()
    sqlite_assistant.review.close()
    rows = counts(None, home)
    assert all(rows[t] for t in ("conversations.sessions", "conversations.turns", "conversations.feedback"))
    assert rows["conversations.agent_messages"] == 2 and rows["review.items"] >= 3 and rows["keys.keys"] == 3

    artifacts = tmp_path / "shared-models"
    env = {"LEPTON_ARTIFACT_DIR": str(artifacts), "LEPTON_KEY_PEPPER_FILE": str(home / "keys.pepper")}
    migrated = lepton("db", "migrate", "--database-url", postgres_url, "--json", home=home, env=env)
    assert migrated.returncode == 0, migrated.stderr
    report = {m["store"]: m for m in json.loads(migrated.stdout)}
    assert report["review"]["tables"] == {"items": rows["review.items"]} and report["models"]["tables"] == {
        "model_pointers": 1
    }
    assert counts(postgres_url, home) == rows
    assert derived(postgres_url, home) == rows["kb.units"] > 0  # the lexicon rebuilt, not copied
    assert (artifacts / "intents" / "versions" / "v0001" / "model").is_dir()

    # The same questions get the same replies and routes from PostgreSQL and the shared model folder.
    on_postgres = load_settings(
        home=home,
        demo=True,
        database_url=postgres_url,
        artifact_dir=artifacts,
        key_pepper_file=home / "keys.pepper",
    )
    after, pg_assistant = answers(on_postgres)
    assert after == before
    assert pg_assistant.intent_version == "v0001"
    shared = KeyStore.from_settings(on_postgres)
    assert shared.verify(keys["admin"]) is not None and shared.verify(keys["widget"]) is not None
    assert shared.verify(keys["revoked"]) is None
    queue = ReviewQueue.from_settings(on_postgres)
    assert queue.add("new-turn", "a new question", "low_confidence")
    new_id = next(i["id"] for i in queue.items() if i["turn_id"] == "new-turn")
    assert new_id > max(i["id"] for i in queue.items() if i["turn_id"] != "new-turn")
    moved = counts(postgres_url, home)
    dispose_engines()

    exported_home = tmp_path / "exported"
    exported = lepton(
        "db", "export", "--database-url", postgres_url, "--to", str(exported_home), home=home, env=env
    )
    assert exported.returncode == 0, exported.stderr
    assert "conversations:" in exported.stdout and "->" in exported.stdout
    assert counts(None, exported_home) == moved
    assert derived(None, exported_home) == moved["kb.units"]  # FTS5 rebuilt from units
    assert (exported_home / "keys.pepper").read_bytes() == (home / "keys.pepper").read_bytes()
    assert json.loads((exported_home / "models/intents/current.json").read_text())["version"] == "v0001"
    assert (exported_home / "models/intents/versions/v0001/model").is_dir()
    back = KeyStore(exported_home / "keys.db")
    assert back.verify(keys["admin"]) is not None and back.verify(keys["revoked"]) is None
    back.close()


def test_refusals_are_one_line(fresh_home: Path, postgres_url: str, tmp_path: Path) -> None:
    from assistant.home_moves import MoveRefused, export_home, migrate_home

    home = fresh_home
    settings = load_settings(home=home, database_url=postgres_url)
    first = {m.store: m for m in migrate_home(settings)}
    assert first["models"].tables == {"model_pointers": 1}
    assert "does not exist" in first["keys"].notes[0]  # the demo home has no keys yet

    # Through the command: one line on stderr, exit status 2, no traceback, no password.
    again = lepton("db", "migrate", "--database-url", postgres_url, home=home)
    assert again.returncode == 2 and "not empty" in again.stderr and "--replace" in again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) == 1
    secret = "s3cret-pw"
    unreachable = lepton(
        "db", "migrate", "--database-url", f"postgresql://u:{secret}@127.0.0.1:9/x", home=home
    )
    assert unreachable.returncode == 2 and "migrate failed" in unreachable.stderr
    assert secret not in unreachable.stderr + unreachable.stdout and "Traceback" not in unreachable.stderr
    not_postgres = lepton("db", "migrate", "--database-url", f"mysql://u:{secret}@db/x", home=home)
    assert not_postgres.returncode == 2 and "postgresql://" in not_postgres.stderr
    assert secret not in not_postgres.stderr and "Traceback" not in not_postgres.stderr
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    refused = lepton("db", "export", "--database-url", postgres_url, "--to", str(taken), home=home)
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]

    # The other refusals, in process (each command start costs seconds on shared cores).
    assert migrate_home(settings, replace=True)[-1].tables == {"model_pointers": 1}
    with pytest.raises(MoveRefused, match="not a Lepton home"):
        migrate_home(load_settings(home=tmp_path / "nothing", database_url=postgres_url))
    with pytest.raises(MoveRefused, match="--database-url"):
        export_home(load_settings(home=home), tmp_path / "out")
    (home / "keys.pepper").write_bytes(os.urandom(32))  # the home's keys use another pepper than configured
    other = tmp_path / "other.pepper"
    other.write_bytes(os.urandom(32))
    with pytest.raises(MoveRefused, match="would not verify"):
        migrate_home(load_settings(home=home, database_url=postgres_url, key_pepper_file=other), replace=True)
