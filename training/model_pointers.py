"""A model registry's pointer in the database (`database_url`): which version serves, for every replica.

The versions stay files in the shared artifact directory (`artifact_dir`, mounted by every replica); a row of
`model_pointers` per registry kind ("intents", "generator") names the current one and the rollback history.
Replicas poll it (one small query) and load what it names. A home that had a current.json before keeps it
as its starting point: read while the kind has no row, and copied into the row by the first change.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Float, MetaData, Table, Text, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from knowledge.database import begin_write, open_engine, upgrade

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from training.registry import FilePointer

# The table as the code reads and writes it; knowledge/database/revisions/models/ makes it.
metadata = MetaData()
MODEL_POINTERS = Table(
    "model_pointers",
    metadata,
    Column("kind", Text, primary_key=True),
    Column("version", Text),
    Column("history", Text, nullable=False),  # JSON list, oldest first
    Column("updated_at", Float, nullable=False),
    Column("updated_by", Text, nullable=False),
)
# Built once: the model watch of every replica runs the read every few seconds.
READ = select(MODEL_POINTERS).where(MODEL_POINTERS.c.kind == bindparam("kind"))
READ_FOR_UPDATE = READ.with_for_update()
WRITE = (
    update(MODEL_POINTERS)
    .where(MODEL_POINTERS.c.kind == bindparam("k"))
    .values(
        version=bindparam("version"),
        history=bindparam("history"),
        updated_at=bindparam("updated_at"),
        updated_by=bindparam("updated_by"),
    )
)
HISTORY_KEPT = 50

# URLs whose "models" branch is up to date in this process.
_upgraded: set[str] = set()
_upgraded_lock = threading.Lock()


def pointer_engine(database_url: Any) -> Engine:
    """The shared engine of the PostgreSQL `database_url` with the models branch migrated (checked once per
    process and URL: the model watch then costs one query, not two)."""
    engine = open_engine(database_url, Path("model_pointers.db"))  # a PostgreSQL URL: the path is not used
    key = engine.url.render_as_string(hide_password=False)
    if key not in _upgraded:
        with _upgraded_lock:
            if key not in _upgraded:
                upgrade(engine, "models")
                _upgraded.add(key)
    return engine


def _who() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class DatabasePointer:
    """The pointer of registry `kind` as a row of `model_pointers`; every change is one transaction that
    locks the row, so two replicas promoting at once both land, one after the other, in the history."""

    def __init__(self, engine: Engine, kind: str, fallback: FilePointer | None = None) -> None:
        self.engine = engine
        self.kind = kind
        self.fallback = fallback  # the home's current.json: the starting point until the row exists

    def read(self) -> dict[str, Any]:
        """{"version", "history", "updated", "by"} as stored (the file's pointer while there is no row)."""
        with self.engine.connect() as conn:
            row = conn.execute(READ, {"kind": self.kind}).first()
        return _as_pointer(row) if row is not None else self._seed()

    def change(self, edit: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Apply `edit` to the pointer in one transaction (the row locked meanwhile); `edit` returns the new
        {"version", "history"} or None to leave it. Returns what was written (None: nothing)."""
        with begin_write(self.engine) as conn:
            row = self._locked_row(conn)
            new = edit(_as_pointer(row))
            if new is None:
                return None
            history = list(new.get("history", []))[-HISTORY_KEPT:]
            written = {
                "version": new.get("version"),
                "history": history,
                "updated": time.time(),
                "by": _who(),
            }
            conn.execute(
                WRITE,
                {
                    "k": self.kind,
                    "version": written["version"],
                    "history": json.dumps(history),
                    "updated_at": written["updated"],
                    "updated_by": written["by"],
                },
            )
            return written

    def _locked_row(self, conn: Connection) -> Any:
        """The kind's row, locked until the transaction ends; made first (from the file's pointer) if missing."""
        row = conn.execute(READ_FOR_UPDATE, {"kind": self.kind}).first()
        if row is not None:
            return row
        seed = self._seed()
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # Two replicas making the row at once: one inserts, the other's insert does nothing and then waits on
        # the row lock below until the first commits.
        conn.execute(
            dialect.insert(MODEL_POINTERS)
            .values(
                kind=self.kind,
                version=seed.get("version"),
                history=json.dumps(list(seed.get("history", []))),
                updated_at=float(seed.get("updated") or time.time()),
                updated_by=str(seed.get("by") or _who()),
            )
            .on_conflict_do_nothing(index_elements=["kind"])
        )
        return conn.execute(READ_FOR_UPDATE, {"kind": self.kind}).one()

    def _seed(self) -> dict[str, Any]:
        if self.fallback is None:
            return {"version": None, "history": []}
        return self.fallback.read()


def _as_pointer(row: Any) -> dict[str, Any]:
    try:
        history = json.loads(row.history or "[]")
    except json.JSONDecodeError:
        history = []
    return {"version": row.version, "history": history, "updated": row.updated_at, "by": row.updated_by}
