"""Migrations: every store's branch builds its tables from an empty database on SQLite and PostgreSQL, once;
replicas starting together migrate once; on PostgreSQL an upgrade waits for the migration lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, text

from knowledge.database import branches, close_engine, open_engine, upgrade
from knowledge.database.upgrades import MIGRATION_LOCK, current, head
from tests.knowledge.conftest import lamp_document

ROOT = Path(__file__).resolve().parents[3]


def versions(engine) -> set[str]:
    with engine.connect() as conn:
        return current(conn)


def test_every_store_migrates_from_empty_once(database_url: str | None, tmp_path: Path) -> None:
    assert "keys" in branches()
    for branch in branches():
        engine = open_engine(database_url, tmp_path / f"{branch}.db")
        assert head(branch) not in versions(engine)  # on PostgreSQL the branches before it share the database
        assert upgrade(engine, branch) == ""  # from nothing
        assert head(branch) in versions(engine)
        assert upgrade(engine, branch) is None  # already there: nothing to do
        close_engine(engine)
    if database_url is not None:  # one database, one alembic_version row per store
        engine = open_engine(database_url, tmp_path / "unused.db")
        assert versions(engine) == {head(b) for b in branches()}
    else:  # a file per store, each knowing only its own branch
        for branch in branches():
            engine = open_engine(None, tmp_path / f"{branch}.db")
            assert versions(engine) == {head(branch)}
            close_engine(engine)


def test_the_keys_branch_makes_the_keys_table(database_url: str | None, tmp_path: Path) -> None:
    engine = open_engine(database_url, tmp_path / "keys.db")
    upgrade(engine, "keys")
    schema = inspect(engine)
    assert {c["name"] for c in schema.get_columns("keys")} == {
        "id",
        "kind",
        "name",
        "origins",
        "digest",
        "created_at",
        "revoked_at",
    }
    digest_index = [ix for ix in schema.get_indexes("keys") if ix["name"] == "idx_keys_digest"]
    assert digest_index and digest_index[0]["unique"] and digest_index[0]["column_names"] == ["digest"]
    close_engine(engine)


def test_the_kb_branch_downgrades_to_nothing_and_upgrades_again(
    database_url: str | None, tmp_path: Path
) -> None:
    """kb_0001's downgrade drops every table its upgrade made, the lexical index's included (FTS5's units_fts
    on SQLite, the lexicon on PostgreSQL), so that the upgrade after it starts from nothing again."""
    from alembic import command

    from knowledge.database.engines import begin_write
    from knowledge.database.upgrades import alembic_config

    engine = open_engine(database_url, tmp_path / "kb.db")
    before = set(inspect(engine).get_table_names())
    assert upgrade(engine, "kb") == ""
    made = set(inspect(engine).get_table_names()) - before
    assert {"units", "documents"} <= made
    assert made >= (
        {"units_fts"} if database_url is None else {"unit_postings", "unit_lexicon", "lexicon_stats"}
    )
    with begin_write(engine) as conn:
        command.downgrade(alembic_config(conn), "kb@base")
    assert set(inspect(engine).get_table_names()) - before <= {"alembic_version"}
    assert head("kb") not in versions(engine)
    assert upgrade(engine, "kb") == ""
    assert set(inspect(engine).get_table_names()) - before == made
    close_engine(engine)


STARTER = """
import sys, time
from pathlib import Path
from knowledge.database import open_store
url, path, start_at = sys.argv[1] or None, Path(sys.argv[2]), float(sys.argv[3])
time.sleep(max(0.0, start_at - time.time()))  # everything imported: all start the upgrade at once
open_store(url, path, "keys")
"""


def test_replicas_starting_together_migrate_once(database_url: str | None, tmp_path: Path) -> None:
    """Four processes open the key store on one new database at the same instant: all start, one migrates."""
    start_at = str(time.time() + 3)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, database_url or "", str(tmp_path / "keys.db"), start_at],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    failures = [p.stderr.read()[-2000:] for p in procs if p.wait(120) != 0]
    assert failures == []
    engine = open_engine(database_url, tmp_path / "keys.db")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head("keys")]
    close_engine(engine)


@pytest.mark.postgres
def test_an_upgrade_waits_for_the_migration_lock(postgres_url: str, tmp_path: Path) -> None:
    """While another replica holds the lock (it is migrating), an upgrade waits, then finds the work to do."""
    engine = open_engine(postgres_url, tmp_path / "unused.db")
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        done: list[str | None] = []
        worker = threading.Thread(target=lambda: done.append(upgrade(engine, "keys")))
        worker.start()
        worker.join(1.5)
        assert worker.is_alive() and not inspect(engine).has_table("keys")
        other.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
        worker.join(60)
    assert done == [""] and inspect(engine).has_table("keys")


def test_kb_0002_indexes_the_postgresql_lexicon_again(postgres_url: str, tmp_path: Path) -> None:
    """A lexicon written with kb_0001's weights (here: every posting's weight spoiled) is indexed again by
    kb_0002: the postings come back as today's indexer writes them, and search ranks by them."""
    from alembic import command

    from knowledge.database.engines import begin_write
    from knowledge.database.upgrades import alembic_config
    from knowledge.store import Store

    store = Store(tmp_path / "kb.db", postgres_url)
    doc, unit = lamp_document(heading="Power")
    store.stage_document(doc, [unit], actor="test", action="add")
    engine = store.db.engine
    read = text("SELECT term, unit_id, freq FROM unit_postings ORDER BY term, unit_id")
    with engine.connect() as conn:
        good = conn.execute(read).all()
    assert good
    with begin_write(engine) as conn:
        conn.execute(text("UPDATE unit_postings SET freq = 0.25"))
        command.stamp(alembic_config(conn), "kb_0001")
    assert upgrade(engine, "kb") == "kb_0001"
    with engine.connect() as conn:
        assert conn.execute(read).all() == good
    store.close()
