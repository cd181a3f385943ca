"""Sessions and logged turns in SQLite (sqlite-utils)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from assistant.stored_rows import private_row, scrub
from knowledge.redaction import redact

OPEN, HANDOFF, CLOSED = "open", "handoff", "closed"

# Bumped when stored rows need redacting again (1: topics and traces, which older versions kept raw).
_SCHEMA_VERSION = 1


@dataclass
class Session:
    """One conversation's state."""

    id: str
    created_at: float
    updated_at: float
    language: str | None = None
    status: str = OPEN
    failures: int = 0
    slots: dict[str, str] = field(default_factory=dict)
    pending: dict[str, Any] | None = None
    # The last question that was answered, for rewriting follow-ups into stand-alone questions.
    topic: str | None = None
    # What the last reply offered ("handoff": a person); only the next message can take it up.
    offer: str | None = None
    # Whose session it is, where the caller says (OpenAI `user`): a digest, see `session_for_user`.
    user_ref: str | None = None
    # A handoff: the agent it is assigned to, when it began waiting, whether the customer was told it waits.
    agent: str | None = None
    waiting_since: float | None = None
    told_waiting: bool = False

    def start_waiting(self) -> None:
        """A new handoff: waiting from now, for nobody yet, the customer not yet told."""
        self.status, self.waiting_since, self.told_waiting, self.agent = HANDOFF, time.time(), False, None


def _session(row: dict[str, Any]) -> Session:
    return Session(
        id=row["id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        language=row["language"],
        status=row["status"],
        failures=row["failures"] or 0,
        slots=json.loads(row["slots"] or "{}"),
        pending=json.loads(row["pending"]) if row["pending"] else None,
        topic=row.get("topic"),
        offer=row.get("offer"),
        user_ref=row.get("user_ref"),
        agent=row.get("agent"),
        waiting_since=row.get("waiting_since"),
        told_waiting=bool(row.get("told_waiting")),
    )


class ConversationStore:
    """Sessions and turns; each turn is written in one transaction, so a crash never leaves half a turn."""

    def __init__(self, path: Path, session_ttl_s: float = 24 * 3600) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.session_ttl_s = session_ttl_s
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._create()

    def _create(self) -> None:
        with self._lock:
            self.db["sessions"].create(
                {
                    "id": str,
                    "created_at": float,
                    "updated_at": float,
                    "language": str,
                    "status": str,
                    "failures": int,
                    "slots": str,
                    "pending": str,
                    "topic": str,
                    "offer": str,
                    "user_ref": str,
                    "agent": str,
                    "waiting_since": float,
                    "told_waiting": int,
                },
                pk="id",
                if_not_exists=True,
            )
            self.db["turns"].create(
                {
                    "id": str,
                    "session_id": str,
                    "created_at": float,
                    "message": str,
                    "language": str,
                    "intent": str,
                    "confidence": float,
                    "route": str,
                    "sources": str,
                    "reply": str,
                    "latency_ms": float,
                    "trace": str,
                },
                pk="id",
                foreign_keys=[("session_id", "sessions", "id")],
                if_not_exists=True,
            )
            # What a person wrote into a handed-off session (not customer turns: they are not counted as turns).
            self.db["agent_messages"].create(
                {"id": str, "session_id": str, "created_at": float, "agent": str, "text": str},
                pk="id",
                foreign_keys=[("session_id", "sessions", "id")],
                if_not_exists=True,
            )
            # a home from before offers / users / the agent desk were kept
            added = {"offer": str, "user_ref": str, "agent": str, "waiting_since": float, "told_waiting": int}
            for column, kind in added.items():
                if column not in self.db["sessions"].columns_dict:
                    self.db["sessions"].add_column(column, kind)
            self.db["sessions"].create_index(["user_ref", "updated_at"], if_not_exists=True)
            self.db["agent_messages"].create_index(["session_id", "created_at"], if_not_exists=True)
            self.db["turns"].create_index(["session_id", "created_at"], if_not_exists=True)
            self.db["turns"].create_index(["created_at"], if_not_exists=True)
            if self.db.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
                self._redact_stored()

    def _redact_stored(self) -> None:
        """Redact what older versions stored raw: session topics and the trace fields that copy the message."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sid, topic in conn.execute(
                "select id, topic from sessions where topic is not null"
            ).fetchall():
                conn.execute("update sessions set topic = ? where id = ?", [redact(topic), sid])
            rows = conn.execute(
                "select id, trace from turns where trace like '%\"rewritten\"%' or trace like '%\"draft\"%'"
                " or trace like '%\"error\"%'"
            ).fetchall()
            for tid, trace in rows:
                clean = json.dumps(scrub(json.loads(trace)), ensure_ascii=False)
                conn.execute("update turns set trace = ? where id = ?", [clean, tid])
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def session(self, session_id: str | None) -> Session:
        """The live session with that id, or a new one (unknown or expired ids start afresh)."""
        now = time.time()
        with self._lock:
            if session_id:
                rows = list(self.db.query("select * from sessions where id = ?", [session_id]))
                if rows and now - rows[0]["updated_at"] <= self.session_ttl_s:
                    return _session(rows[0])
            return Session(id=uuid.uuid4().hex, created_at=now, updated_at=now)

    def session_for_user(self, user_ref: str) -> Session:
        """The user's latest live session, or a new one kept for them at once (so that the next call of the
        same user finds it, whichever id it carries)."""
        now = time.time()
        with self._lock:
            rows = list(
                self.db.query(
                    "select * from sessions where user_ref = ? and updated_at >= ? order by updated_at desc limit 1",
                    [user_ref, now - self.session_ttl_s],
                )
            )
            if rows:
                return _session(rows[0])
            session = Session(id=uuid.uuid4().hex, created_at=now, updated_at=now, user_ref=user_ref)
            self.save_session(session)
            return session

    def log_turn(self, session: Session, turn: dict[str, Any]) -> str:
        """Store one turn and the session's new state atomically (customer text redacted); returns its id.

        `turn["public"]`: texts the reply drew on (knowledge-base passages), whose data the reply may keep.
        """
        turn_id = turn.get("id") or uuid.uuid4().hex
        now = time.time()
        session.updated_at = now
        row = {
            "id": turn_id,
            "session_id": session.id,
            "created_at": now,
            "message": turn["message"],
            "language": turn.get("language"),
            "intent": turn.get("intent"),
            "confidence": turn.get("confidence"),
            "route": turn.get("route"),
            "sources": turn.get("sources", []),
            "reply": turn.get("reply", ""),
            "latency_ms": turn.get("latency_ms"),
            "trace": turn.get("trace", {}),
        }
        public = list(turn.get("public", ()))  # the passages the reply quoted
        # Plain SQL in one explicit transaction: sqlite-utils' helpers commit on their own.
        with self._lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._upsert(conn, "sessions", self._session_row(session))
                self._upsert(conn, "turns", row, keep=public)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return turn_id

    @staticmethod
    def _upsert(conn: sqlite3.Connection, table: str, row: dict[str, Any], keep: Sequence[str] = ()) -> None:
        """Insert or replace one row; every write of this store goes through here, and so through `_private`."""
        row = private_row(table, row, keep)
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})", list(row.values()))

    def save_session(self, session: Session) -> None:
        with self._lock:
            self._upsert(self.db.conn, "sessions", self._session_row(session))

    @staticmethod
    def _session_row(session: Session) -> dict[str, Any]:
        return {
            "id": session.id,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
            "language": session.language,
            "status": session.status,
            "failures": session.failures,
            "slots": session.slots,
            "pending": session.pending or None,
            "topic": session.topic,
            "offer": session.offer,
            "user_ref": session.user_ref,
            "agent": session.agent,
            "waiting_since": session.waiting_since,
            "told_waiting": int(session.told_waiting),
        }

    def history(self, session_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The session's turns, oldest first."""
        with self._lock:
            rows = list(
                self.db.query(
                    "select * from (select * from turns where session_id = ? order by created_at desc limit ?)"
                    " order by created_at",
                    [session_id, limit],
                )
            )
        for row in rows:
            row["sources"] = json.loads(row["sources"] or "[]")
            row["trace"] = json.loads(row["trace"] or "{}")
        return rows

    def turn(self, turn_id: str) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db.query("select * from turns where id = ?", [turn_id]))
        if not rows:
            return None
        row = rows[0]
        row["sources"] = json.loads(row["sources"] or "[]")
        row["trace"] = json.loads(row["trace"] or "{}")
        return row

    def add_agent_message(self, session_id: str, text: str, agent: str = "agent") -> dict[str, Any]:
        """A person's reply in a handed-off session; the customer sees it in the widget and the chat page."""
        row = {
            "id": uuid.uuid4().hex,
            "session_id": session_id,
            "created_at": time.time(),
            "agent": agent,
            "text": text,
        }
        with self._lock:
            self._upsert(self.db.conn, "agent_messages", row)
            self.db.execute(
                "update sessions set updated_at = ? where id = ?", [row["created_at"], session_id]
            )
        return row

    def agent_messages(self, session_id: str, after: float = 0.0) -> list[dict[str, Any]]:
        with self._lock:
            return list(
                self.db.query(
                    "select * from agent_messages where session_id = ? and created_at > ? order by created_at",
                    [session_id, after],
                )
            )

    def set_status(self, session_id: str, status: str) -> bool:
        """Change a session's status; closing also clears its failure count, so it never loops back. A new
        handoff waits from now, for nobody yet (see `Session.start_waiting`)."""
        now = time.time()
        new = status == HANDOFF
        with self._lock:
            cur = self.db.execute(
                "update sessions set failures = case when ? = 'handoff' then failures else 0 end,"
                " waiting_since = case when ? and status != 'handoff' then ? else waiting_since end,"
                " told_waiting = case when ? and status != 'handoff' then 0 else told_waiting end,"
                " agent = case when ? and status != 'handoff' then null else agent end,"
                " status = ?, updated_at = ? where id = ?",
                [status, new, now, new, new, status, now, session_id],
            )
        return cur.rowcount > 0

    def assign(self, session_id: str, agent: str) -> bool:
        """Give a session to an agent (a name: the console user, the admin key's name)."""
        with self._lock:
            cur = self.db.execute("update sessions set agent = ? where id = ?", [agent, session_id])
        return cur.rowcount > 0

    def sessions_with_status(self, status: str, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            return list(
                self.db.query(
                    "select s.id, s.language, s.status, s.updated_at, s.created_at, s.agent,"
                    " coalesce(s.waiting_since, s.updated_at) as waiting_since, s.user_ref,"
                    " (select message from turns t where t.session_id = s.id order by created_at desc limit 1)"
                    " as last_message from sessions s where status = ? order by updated_at desc limit ?",
                    [status, limit],
                )
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            turns = self.db.execute("select count(*) from turns").fetchone()[0]
            sessions = self.db.execute("select count(distinct session_id) from turns").fetchone()[0]
        return {"turns": turns, "sessions": sessions}

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read-only query's rows as tuples, under the store's lock (reports and analytics)."""
        with self._lock:
            return self.db.execute(sql, list(params)).fetchall()

    def records(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """A read-only query's rows as dicts, under the store's lock."""
        with self._lock:
            return list(self.db.query(sql, list(params)))

    @property
    def lock(self) -> threading.RLock:
        """The lock of the store's one connection, for tables that share it (feedback)."""
        return self._lock

    def close(self) -> None:
        self.db.conn.close()
