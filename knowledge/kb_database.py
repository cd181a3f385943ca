"""`KbDatabase`: the knowledge base's engine (SQLite kb.db or the shared PostgreSQL) and its transactions.

The store, the version log and the twins' marks run their statements through one `KbDatabase`: inside a
`transaction()` every statement of this thread goes to that transaction's connection (a nested call joins
it, as the previous release's sqlite-utils store did), outside one each read gets a pooled connection.

Writers take turns. SQLite: a write transaction begins IMMEDIATE (one writer per file, others wait).
PostgreSQL: each write transaction first takes `pg_advisory_xact_lock(KB_LOCK)`, so replicas write the
knowledge base one at a time (publish numbers versions max + 1, the draft is one shared set). An ingest
holds that lock for its whole run (`exclusive()`, a session-level lock on a connection the ingest's own
transactions then use), as the previous release held its process lock: two replicas never ingest at once,
and a replica killed mid-ingest frees it when its connection drops.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Executable, text
from sqlalchemy.engine import Connection, CursorResult, Engine

from knowledge.database import begin_write, close_engine, plain_row

# The advisory lock's key ("kb" in ASCII, apart from the migrations', the review queue's and retraining's).
KB_LOCK = int.from_bytes(b"lepton-kb", "big") & 0x7FFF_FFFF_FFFF_FFFF
_LOCK_XACT = text(f"SELECT pg_advisory_xact_lock({KB_LOCK})")
_LOCK = text(f"SELECT pg_advisory_lock({KB_LOCK})")
_UNLOCK = text(f"SELECT pg_advisory_unlock({KB_LOCK})")


class KbDatabase:
    """One knowledge base's engine; statements run in this thread's transaction when one is open."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._local = threading.local()
        # Write transactions this process has finished: a cache of live reads is stale once it moves.
        self.writes = 0

    def close(self) -> None:
        close_engine(self.engine)

    def in_transaction(self) -> bool:
        """Whether this thread is inside `transaction()` (its reads must see its own writes)."""
        return getattr(self._local, "conn", None) is not None

    # -- connections -----------------------------------------------------------------------------
    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """This thread's open transaction's connection, else a read on a pooled one."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        pinned = getattr(self._local, "pinned", None)
        if pinned is not None:
            with pinned.begin():
                yield pinned
            return
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: all of it lands, or none of it; a nested call joins the outer one."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        pinned = getattr(self._local, "pinned", None)
        with _begin(self.engine, pinned) as conn:
            if self.dialect == "postgresql":
                conn.execute(_LOCK_XACT)
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None
        self.writes += 1  # committed (a failed transaction raised above and changed nothing)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the knowledge base's write lock across several transactions (an ingest) on PostgreSQL: this
        thread's statements then run on the lock's connection. SQLite: nothing (each transaction locks)."""
        if self.dialect != "postgresql" or getattr(self._local, "pinned", None) is not None:
            yield
            return
        conn = self.engine.connect()
        try:
            conn.execute(_LOCK)  # waits while another replica ingests or writes
            conn.commit()
            self._local.pinned = conn
            try:
                yield
            finally:
                self._local.pinned = None
                conn.rollback()
                conn.execute(_UNLOCK)
                conn.commit()
        except BaseException:
            conn.invalidate()  # never hand a connection that may still hold the lock back to the pool
            raise
        finally:
            conn.close()

    # -- statements ------------------------------------------------------------------------------
    def execute(self, statement: str | Executable, params: Any = None) -> CursorResult:
        """Run a write in this thread's transaction (its own when none is open); returns the result."""
        statement = text(statement) if isinstance(statement, str) else statement
        with self.transaction() as conn:
            return conn.execute(statement, params)

    def rows(self, statement: str | Executable, params: Mapping[str, Any] | None = None) -> list[dict]:
        """A read's rows as plain dicts."""
        statement = text(statement) if isinstance(statement, str) else statement
        with self.connection() as conn:
            return [plain_row(r) for r in conn.execute(statement, params or {}).mappings()]

    def tuples(self, statement: str | Executable, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """A read's rows as tuples."""
        statement = text(statement) if isinstance(statement, str) else statement
        with self.connection() as conn:
            return [tuple(r) for r in conn.execute(statement, params or {})]

    def scalar(self, statement: str | Executable, params: Mapping[str, Any] | None = None) -> Any:
        """A read's first column of its first row (None when there is none)."""
        statement = text(statement) if isinstance(statement, str) else statement
        with self.connection() as conn:
            return conn.execute(statement, params or {}).scalar()


@contextmanager
def _begin(engine: Engine, pinned: Connection | None) -> Iterator[Connection]:
    """A write transaction on `pinned` (the ingest's locked connection) or a new one."""
    if pinned is None:
        with begin_write(engine) as conn:
            yield conn
        return
    if pinned.in_transaction():
        pinned.commit()
    with pinned.begin():
        yield pinned


def upsert(conn: Any, table: Any, rows: list[dict]) -> None:
    """Insert `rows` into `table`, replacing the row of the same primary key (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    keys = [c.name for c in table.primary_key.columns]
    statement = dialect_insert(table)
    rest = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=rest), rows)
