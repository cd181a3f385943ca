"""A home made by the previous release (kb.db written by sqlite-utils, schema 2, no alembic_version): the new
store adopts its tables as they are, and its documents, versions, audit, marks and search keep working."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from knowledge import Embedder, KnowledgeBase

# kb_previous_release.sql was dumped from a kb.db made on main at 0fdb8ee: the test corpus
# (tests/knowledge/conftest.py) ingested by "setup" (v1); refund-en and refund-zh added by "alice" (v2, note
# "refund answers"); refund-en edited by "bob" (v3); rolled back to v2 by "carol"; then refund-en edited by
# "dave" in the draft (4 business days), which marked refund-zh "needs update". FTS5 rows as they were.
ROOT = Path(__file__).resolve().parents[2]
DUMP = Path(__file__).with_name("kb_previous_release.sql")
TABLES = (
    "meta",
    "documents",
    "units",
    "draft_units",
    "versions",
    "version_units",
    "version_documents",
    "audit",
    "twin_flags",
    "version_twin_flags",
)


def previous_release_home(folder: Path) -> Path:
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "kb.db") as conn:
        conn.executescript(DUMP.read_text())
    return folder


def snapshot(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr) for t in TABLES}


def test_a_previous_release_kb_is_adopted(tmp_path: Path, minilm: Embedder) -> None:
    home = previous_release_home(tmp_path / "kb")
    before = snapshot(home / "kb.db")
    kb = KnowledgeBase(home, embedder=minilm, multilingual=False)

    assert kb.live_version() == 2
    assert [(v["version"], v["actor"], v["live"], v["summary"]) for v in kb.versions()] == [
        (3, "bob", False, "1 template changed"),
        (2, "alice", True, "refund answers"),
        (1, "setup", False, "ingest of 4 file(s)"),
    ]
    assert [a["action"] for a in kb.audit(3)] == ["upsert_template", "rollback", "publish"]
    assert "5 business days" in kb.get_template("refund-en").answer
    assert [c["id"] for c in kb.draft_changes()] and kb.needs_update()[0]["id"] == "refund-zh"
    assert kb.store.lexical("refunds card business days", 5)  # the FTS5 rows the old release wrote
    assert kb.search("do you ship to Canada", k=1)[0].uri.endswith("shipping.md")
    # Adopted, not rebuilt: every row is as it was, and the file is recorded at the kb head.
    assert snapshot(home / "kb.db") == before
    with sqlite3.connect(home / "kb.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("kb_0002",)]

    # And it goes on: publishing the draft, rolling back.
    assert kb.publish("erin")["version"] == 4 and "4 business days" in kb.get_template("refund-en").answer
    kb.rollback(2, actor="erin")
    assert "5 business days" in kb.get_template("refund-en").answer
    assert kb.needs_update() == []  # v2's marks (none): dave's edit went with the draft


def test_lepton_db_upgrade_adopts_the_kb_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    previous_release_home(home / "kb")
    before = snapshot(home / "kb" / "kb.db")

    def upgrade() -> dict:
        run = subprocess.run(
            [sys.executable, "-m", "ui.cli", "db", "upgrade", "--json", "--home", str(home)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        return next(d for d in json.loads(run.stdout) if d["store"] == "kb")

    first = upgrade()
    assert (first["before"], first["after"], first["changed"]) == ("", "kb_0002", True)
    assert first["where"] == str(home / "kb" / "kb.db")
    assert not upgrade()["changed"] and snapshot(home / "kb" / "kb.db") == before
