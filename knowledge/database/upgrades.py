"""Schema migrations (Alembic), run by each store when it opens: one Alembic branch per store.

The revisions live in `revisions/<branch>/` inside this package (no alembic.ini): `revisions/keys/` is the
key store's. On SQLite each store upgrades only its branch in its own file; on PostgreSQL every store shares
one database, and alembic_version holds one row per branch. Replicas starting together take a PostgreSQL
advisory lock (SQLite: BEGIN IMMEDIATE) around the upgrade, so one migrates and the others find it done.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("lepton.database")
# Alembic narrates its plugins (on import) and DDL mode at INFO; a server's log gets one line per upgrade instead.
logging.getLogger("alembic").setLevel(logging.WARNING)

REVISIONS = Path(__file__).resolve().parent / "revisions"
# pg_advisory_xact_lock key for every store's upgrade ("lepton" in ASCII); released when the upgrade commits,
# or when its connection dies, so a replica killed mid-upgrade never leaves the others waiting.
MIGRATION_LOCK = int.from_bytes(b"lepton", "big")

_process_lock = threading.Lock()


def branches() -> list[str]:
    """Every store's branch: the folders under revisions/ (each holds that store's version files)."""
    return sorted(p.name for p in REVISIONS.iterdir() if p.is_dir() and any(p.glob("*.py")))


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at this package's revisions (for upgrade, and for `command.revision` when
    writing a new migration: see docs/database.md)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(REVISIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(REVISIONS / b) for b in branches()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head(branch: str) -> str:
    """The newest revision of `branch`."""
    script = _script().get_revision(f"{branch}@head")
    if script is None:
        raise ValueError(f"no migrations for store {branch!r}")
    return script.revision


def current(connection: Connection) -> set[str]:
    """The revisions this database is at (one per branch that has been upgraded here)."""
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: Engine, branch: str) -> str | None:
    """Bring `branch`'s tables to its newest revision. Returns the revision it started from ("" when the
    database had none of it), or None when it was already up to date (one query, no lock)."""
    target = head(branch)
    with engine.connect() as conn:
        if target in current(conn):
            return None
    from alembic import command

    from knowledge.database.engines import begin_write

    with _process_lock, begin_write(engine) as conn:  # threads of one process wait here, processes below
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        before = current(conn)
        if target in before:
            return None  # another replica did it while we waited
        command.upgrade(alembic_config(conn), f"{branch}@head")
    start = _branch_revision(before, branch)
    log.info("database: store %r upgraded from %s to %s", branch, start or "nothing", target)
    return start


def _branch_revision(revisions: set[str], branch: str) -> str:
    """Which of `revisions` belongs to `branch` ("" when none does)."""
    script = _script()
    for rev in revisions:
        found = script.get_revision(rev)
        if found is not None and branch in _labels(script, found.revision):
            return rev
    return ""


def _labels(script: ScriptDirectory, revision: str) -> set[str]:
    """The branch labels of `revision` and every revision below it (a label sits on the branch's base)."""
    labels: set[str] = set()
    for rev in script.iterate_revisions(revision, "base"):
        labels.update(rev.branch_labels)
    return labels
