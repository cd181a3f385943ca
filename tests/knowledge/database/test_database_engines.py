"""knowledge/database engines: SQLite files (WAL, busy timeout, foreign keys, many threads, writers that wait)
and one shared engine per PostgreSQL URL; a URL's password is never shown."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from knowledge.database import begin_write, close_engine, open_engine, redact_url
from knowledge.database.engines import POOL_SIZE

ROOT = Path(__file__).resolve().parents[3]


def test_sqlite_engine_is_private_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "new" / "store.db"
    engine = open_engine(None, path)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert path.stat().st_mode & 0o777 == 0o600
    close_engine(engine)


def test_sqlite_writers_in_threads_and_on_two_engines_wait_for_each_other(tmp_path: Path) -> None:
    """Read-then-write transactions from 8 threads over two engines (two processes' worth): none fails with
    "database is locked" and no increment is lost."""
    path = tmp_path / "count.db"
    engines = [open_engine(None, path), open_engine(None, path)]
    with engines[0].begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []

    def bump(engine, times: int) -> None:
        try:
            for _ in range(times):
                with begin_write(engine) as conn:
                    n = conn.exec_driver_sql("SELECT n FROM counter").scalar()
                    conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # reported below, with the count
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(engines[i % 2], 25)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with engines[1].connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM counter").scalar() == 200
    for engine in engines:
        close_engine(engine)


@pytest.mark.postgres
def test_one_engine_per_postgres_url_shared_by_every_store(postgres_url: str, tmp_path: Path) -> None:
    first = open_engine(postgres_url, tmp_path / "unused.db")
    again = open_engine(postgres_url.replace("postgresql://", "postgres://", 1), tmp_path / "other.db")
    assert again is first and first.dialect.name == "postgresql" and first.dialect.driver == "psycopg"
    assert first.pool.size() == POOL_SIZE
    close_engine(first)  # a store closing leaves the shared engine to the others
    with again.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
    assert not list(tmp_path.iterdir()), "PostgreSQL stores write no SQLite file"


def test_passwords_are_redacted() -> None:
    assert redact_url("postgresql://lepton:s3cret@db:5432/lepton") == "postgresql://lepton:***@db:5432/lepton"
    assert redact_url("postgresql://lepton:p@ss:w@db/lepton") == "postgresql://lepton:***@db/lepton"
    assert (
        redact_url("postgresql://db/lepton?user=a&password=s3cret")
        == "postgresql://db/lepton?user=a&password=***"
    )
    assert redact_url("postgresql://lepton@db/lepton") == "postgresql://lepton@db/lepton"
    with pytest.raises(ValueError) as refused:
        open_engine("mysql://lepton:s3cret@db/lepton", Path("x.db"))
    assert "s3cret" not in str(refused.value) and "***" in str(refused.value)
    engine = open_engine("postgresql://lepton:s3cret@127.0.0.1:9/lepton", Path("x.db"))
    assert "s3cret" not in repr(engine) and "s3cret" not in str(engine.url)


def test_a_database_that_cannot_be_reached_is_one_line_without_the_password(tmp_path: Path) -> None:
    """`lepton db upgrade` against a port where no server listens: a clear failure, no traceback, no password."""
    run = subprocess.run(
        [sys.executable, "-m", "ui.cli", "db", "upgrade", "--home", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "LEPTON_DATABASE_URL": "postgresql://lepton:s3cret@127.0.0.1:9/lepton"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 2 and "cannot reach the database" in out and "Traceback" not in out
    assert "s3cret" not in out
