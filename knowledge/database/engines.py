"""Engines: one SQLAlchemy engine per PostgreSQL URL per process, shared by every store; on SQLite one engine
per file, owned by the store that opened it (closed with it), as each store kept its own file before.

SQLAlchemy is imported inside the functions: `import knowledge.database` stays cheap.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.database.urls import driver_url, is_postgres_url, redact_url

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy.engine import Connection, Engine

# A writer waits this long for another process's write to finish before SQLite says "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Per process and URL. Each replica serves its requests from a few dozen threads, but a statement holds a
# connection for about a millisecond; N replicas x (5 + 5) stays far under PostgreSQL's 100 connections.
POOL_SIZE = 5
MAX_OVERFLOW = 5

_shared: dict[str, Engine] = {}
_shared_lock = threading.Lock()


def plain_url(url: Any) -> str | None:
    """The URL as text: a settings secret (anything with `get_secret_value`) is unwrapped; empty is None."""
    if url is None:
        return None
    text = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
    return text.strip() or None


def open_engine(url: Any, sqlite_path: Path) -> Engine:
    """The engine for a store: `url` (postgresql://…) when given, shared in this process by every store on it;
    else a new engine on the SQLite file `sqlite_path` (WAL, busy timeout, foreign keys; safe across threads)."""
    text = plain_url(url)
    if text is None:
        return _sqlite_engine(sqlite_path)
    if not is_postgres_url(text):
        raise ValueError(f"not a PostgreSQL URL: {redact_url(text)!r}")
    return _postgres_engine(text)


def close_engine(engine: Engine) -> None:
    """Close a store's engine: a SQLite file's connections are closed; a shared PostgreSQL engine stays open
    for the other stores (dispose_engines() closes those)."""
    if engine.dialect.name == "sqlite":
        engine.dispose()


def dispose_engines() -> None:
    """Close every shared PostgreSQL engine of this process (tests dropping a database; a forked child)."""
    with _shared_lock:
        engines = list(_shared.values())
        _shared.clear()
    for engine in engines:
        engine.dispose()


def shared_database_urls() -> list[str]:
    """The PostgreSQL URLs this process has opened, passwords shown as *** (to name a database in an error)."""
    with _shared_lock:
        return [redact_url(url).replace("postgresql+psycopg://", "postgresql://", 1) for url in _shared]


def begin_write(engine: Engine) -> AbstractContextManager[Connection]:
    """A transaction that will write: on SQLite it takes the write lock at BEGIN (BEGIN IMMEDIATE), so a
    read-then-write transaction waits for other writers instead of failing with "database is locked" when it
    first writes. On PostgreSQL it is a plain `engine.begin()`."""
    return engine.execution_options(lepton_write=True).begin()


def _postgres_engine(url: str) -> Engine:
    from sqlalchemy import create_engine

    key = driver_url(url)
    with _shared_lock:
        engine = _shared.get(key)
        if engine is None:
            engine = create_engine(
                key,
                pool_size=POOL_SIZE,
                max_overflow=MAX_OVERFLOW,
                pool_pre_ping=True,  # a restarted server or a dropped idle connection costs a retry, not an error
                pool_recycle=1800,
                pool_timeout=30,
                connect_args={"connect_timeout": 10, "application_name": "lepton"},
            )
            _shared[key] = engine
        return engine


def _sqlite_engine(path: Path) -> Engine:
    from sqlalchemy import create_engine, event

    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)  # private from the first byte, whatever the umask
    engine = create_engine(
        f"sqlite:///{path}",
        # Pooled connections move between threads (a web server's workers); each is used by one at a time.
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see _begin): the driver's own
        # implicit BEGIN would otherwise leave SELECTs outside transactions and break transactional DDL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("lepton_write", False)
        # Straight to the driver: through SQLAlchemy this one statement doubled the cost of a key lookup.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
