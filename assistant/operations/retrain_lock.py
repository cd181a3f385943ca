"""The one retrain lock: a home's on one machine, the database's across replicas.

SQLite homes (no `database_url`): this process's lock for the home plus an exclusive `flock` on
HOME/models/retrain.lock, so a CLI retrain and a server's cannot overlap. With `database_url`: this process's
lock plus a PostgreSQL session-level advisory lock, taken with `pg_try_advisory_lock` on a connection held for
the whole job. Every replica on the database asks for the same lock; it is released when the job ends, or by
the server itself when the holder's connection closes (a replica killed with -9 never leaves it taken).
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from assistant.operations.operation_errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from assistant.config import Settings

LOCK_FILE = "retrain.lock"
# The advisory lock's key ("retrain" in ASCII): one retrain at a time per database, whichever replica asks.
# Distinct from the migrations' key (knowledge/database/upgrades.py MIGRATION_LOCK).
RETRAIN_LOCK = int.from_bytes(b"retrain", "big")
# Who holds the lock, from the database's own lock table (the key as pg_locks shows a bigint: high half in
# classid, low half in objid, objsubid 1), with the holder's application_name (set by the holder below).
HOLDER = (
    "SELECT a.application_name FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    f" AND l.classid = {RETRAIN_LOCK >> 32} AND l.objid = {RETRAIN_LOCK & 0xFFFFFFFF} LIMIT 1"
)
HOLDER_PREFIX = "lepton retrain "

_local_locks: dict[Any, threading.Lock] = {}
_local_locks_guard = threading.Lock()


class RetrainRunning(Conflict):
    """A retrain is already running (in this process, another process, or another replica)."""

    def __init__(self, message: str = "A retrain is already running.") -> None:
        super().__init__(message)


def _local_lock(key: Any) -> threading.Lock:
    with _local_locks_guard:
        return _local_locks.setdefault(key, threading.Lock())


def retrain_lock(settings: Settings) -> HomeRetrainLock | ReplicaRetrainLock:
    """The retrain lock for `settings`: the database's with `database_url`, else the home's."""
    if settings.database_url is not None:
        return ReplicaRetrainLock(settings.database_url)
    return HomeRetrainLock(settings.models_dir)


class HomeRetrainLock:
    """The one retrain lock of a home: this process's lock for the home plus a file lock for other processes."""

    def __init__(self, models_dir: Path) -> None:
        self.path = Path(models_dir) / LOCK_FILE
        self._local = _local_lock(self.path.resolve())
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take both locks without waiting; RetrainRunning when either is held."""
        if not self._local.acquire(blocking=False):
            raise RetrainRunning()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise RetrainRunning("A retrain is already running (started by another process).") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")  # who holds it, for a person looking at the file
            handle.flush()
            self._file = handle
        except BaseException:
            self._local.release()
            raise

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._local.release()

    def held(self) -> bool:
        """Whether a retrain of this home runs now, here or in another process (a probe; takes nothing)."""
        if self._local.locked():
            return True
        if not self.path.parent.is_dir():
            return False
        with self.path.open("a+") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
        return False


class ReplicaRetrainLock:
    """One retrain at a time across every replica of a database: this process's lock plus a PostgreSQL
    session-level advisory lock on a connection of its own, held (outside any transaction) for the job."""

    def __init__(self, database_url: Any) -> None:
        from knowledge.database import open_engine

        self.engine = open_engine(database_url, Path("retrain.lock"))  # PostgreSQL: the path is not used
        self._local = _local_lock(("database", self.engine.url.render_as_string(hide_password=False)))
        self._conn: Connection | None = None

    def acquire(self) -> None:
        """Take both locks without waiting; RetrainRunning (naming the holder's host) when either is held."""
        if not self._local.acquire(blocking=False):
            raise RetrainRunning()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                # Named first, so that whoever finds the lock taken can tell where the retrain runs.
                conn.exec_driver_sql(
                    "SELECT set_config('application_name', %s, false)",
                    (f"{HOLDER_PREFIX}{socket.gethostname()} pid {os.getpid()}",),
                )
                got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({RETRAIN_LOCK})").scalar()
            except BaseException:
                conn.invalidate()  # never back to the pool with its name (or the lock) still on it
                conn.close()
                raise
            if not got:
                _forget(conn)
                raise RetrainRunning(f"A retrain is already running ({self._where()}).")
            self._conn = conn
        except BaseException:
            self._local.release()
            raise

    def release(self) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                _forget(conn, unlock=True)
        finally:
            self._local.release()

    def held(self) -> bool:
        """Whether a retrain runs now, in this process or on any replica of the database (a probe)."""
        return self._local.locked() or self.holder() is not None

    def holder(self) -> str | None:
        """The application name of the database session holding the lock (any replica's), or None when free."""
        with self.engine.connect() as conn:
            name = conn.exec_driver_sql(HOLDER).first()
        return None if name is None else str(name[0] or "")

    def _where(self) -> str:
        """Where the running retrain is, in words ("on another replica: host pid N")."""
        try:
            holder = self.holder()
        except Exception:  # only for a message
            holder = None
        if not holder or not holder.startswith(HOLDER_PREFIX):
            return "started on another replica"
        return f"started on another replica: {holder.removeprefix(HOLDER_PREFIX)}"


def _forget(conn: Connection, unlock: bool = False) -> None:
    """Give a lock connection back: unlocked and renamed back when it answers, else dropped (its session ends
    on the server, which frees the lock), so no pooled connection ever carries the lock."""
    try:
        if unlock:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({RETRAIN_LOCK})")
        conn.exec_driver_sql("RESET application_name")
    except Exception:
        conn.invalidate()
    finally:
        conn.close()
