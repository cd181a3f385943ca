"""Sessions and logged turns: HOME/conversations.db (SQLite, the default) or the shared PostgreSQL database
(`database_url`), through knowledge/database (SQLAlchemy Core; tables in assistant/conversation_tables.py).

Nothing about a session is kept in the process: each turn reads its session from the database and writes back
only what it changed, so a conversation continues on any replica and an agent's action made during a turn
stands (see `ConversationStore.log_turn`)."""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from assistant.conversation_reads import ConversationReads
from assistant.conversation_tables import (
    AGENT_MESSAGES,
    DESK_COLUMNS,
    EARLIER_TURN,
    LAST_TURNS,
    LATEST_OF_USER,
    SESSION_BY_ID,
    SESSIONS,
    TURN_BY_CLIENT_ID,
    TURN_BY_ID,
    TURNS,
    session_update,
)
from assistant.stored_rows import private_row, scrub
from knowledge.database import begin_write, close_engine, open_store, plain_row, plain_rows
from knowledge.redaction import redact

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from assistant.config import Settings

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
    # The columns as they were read (None: not stored yet); a turn writes back only what differs from them.
    stored: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def start_waiting(self) -> None:
        """A new handoff: waiting from now, for nobody yet, the customer not yet told."""
        self.status, self.waiting_since, self.told_waiting, self.agent = HANDOFF, time.time(), False, None


def _values(session: Session) -> dict[str, Any]:
    """The session's columns (before redaction)."""
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


def _session(row: Any) -> Session:
    session = Session(
        id=row["id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        language=row["language"],
        status=row["status"],
        failures=row["failures"] or 0,
        slots=json.loads(row["slots"] or "{}"),
        pending=json.loads(row["pending"]) if row["pending"] else None,
        topic=row["topic"],
        offer=row["offer"],
        user_ref=row["user_ref"],
        agent=row["agent"],
        waiting_since=row["waiting_since"],
        told_waiting=bool(row["told_waiting"]),
    )
    session.stored = copy.deepcopy(_values(session))
    return session


def _turn_row(row: Any) -> dict[str, Any]:
    out = plain_row(row)
    out["sources"] = json.loads(out["sources"] or "[]")
    out["trace"] = json.loads(out["trace"] or "{}")
    return out


def _commit_without_fsync(engine: Engine) -> None:
    """SQLite's `synchronous=NORMAL` for the log's file, as the log always had: in WAL mode a commit is not
    flushed to disk (a power cut may lose the last turns, never corrupt the file), and flushing each turn cost
    two to four times as much (benchmarks/turn_logging.py)."""
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=NORMAL"))
    engine.dispose()  # the connection the upgrade check left in the pool: the next ones get the pragma


class DuplicateTurn(Exception):
    """A turn with the same `client_message_id` was logged first (another request: a retry on another
    replica, a double send): the unique index refused this one, and nothing of it was written."""


class ConversationStore(ConversationReads):
    """Sessions and turns; each turn is written in one transaction, so a crash never leaves half a turn."""

    def __init__(self, path: Path, session_ttl_s: float = 24 * 3600, *, database_url: Any = None) -> None:
        """The log in the SQLite file `path`, or in PostgreSQL at `database_url` (shared by every replica)."""
        self.path = path
        self.session_ttl_s = session_ttl_s
        self.engine = open_store(database_url, path, "conversations")
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        new = dialect.insert(SESSIONS)
        # A session not read from the database (new, or named by a caller) is written whole, as before.
        self._upsert_session = new.on_conflict_do_update(
            index_elements=["id"], set_={c.name: new.excluded[c.name] for c in SESSIONS.c if c.name != "id"}
        )
        if self.engine.dialect.name == "sqlite":
            _commit_without_fsync(self.engine)
            self._redact_stored()

    @classmethod
    def from_settings(cls, settings: Settings) -> ConversationStore:
        """The configured log: HOME/conversations.db, or the tables of `database_url`."""
        return cls(settings.logs_path, database_url=settings.database_url)

    def _redact_stored(self) -> None:
        """Redact what older versions stored raw in a SQLite file: session topics and the trace fields that
        copy the message (PostgreSQL only ever held rows written by this version)."""
        with self.engine.connect() as conn:  # the usual case, without taking the write lock
            if conn.exec_driver_sql("PRAGMA user_version").scalar_one() >= _SCHEMA_VERSION:
                return
        with begin_write(self.engine) as conn:
            if conn.exec_driver_sql("PRAGMA user_version").scalar_one() >= _SCHEMA_VERSION:
                return  # another process did it meanwhile
            topics = conn.execute(
                select(SESSIONS.c.id, SESSIONS.c.topic).where(SESSIONS.c.topic.is_not(None))
            )
            for sid, topic in topics.all():
                conn.execute(update(SESSIONS).where(SESSIONS.c.id == sid).values(topic=redact(topic)))
            copies = TURNS.c.trace.like('%"rewritten"%') | TURNS.c.trace.like('%"draft"%')
            traces = conn.execute(
                select(TURNS.c.id, TURNS.c.trace).where(copies | TURNS.c.trace.like('%"error"%'))
            )
            for tid, trace in traces.all():
                clean = json.dumps(scrub(json.loads(trace)), ensure_ascii=False)
                conn.execute(update(TURNS).where(TURNS.c.id == tid).values(trace=clean))
            conn.exec_driver_sql(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def session(self, session_id: str | None) -> Session:
        """The live session with that id, or a new one (unknown or expired ids start afresh)."""
        now = time.time()
        if session_id:
            with self.engine.connect() as conn:
                row = conn.execute(SESSION_BY_ID, {"id": session_id}).mappings().first()
            if row is not None and now - row["updated_at"] <= self.session_ttl_s:
                return _session(row)
        return Session(id=uuid.uuid4().hex, created_at=now, updated_at=now)

    def session_for_user(self, user_ref: str) -> Session:
        """The user's latest live session, or a new one kept for them at once (so that the next call of the
        same user finds it, whichever id it carries)."""
        now = time.time()
        with self.engine.connect() as conn:
            params = {"user_ref": user_ref, "since": now - self.session_ttl_s}
            row = conn.execute(LATEST_OF_USER, params).mappings().first()
        if row is not None:
            return _session(row)
        session = Session(id=uuid.uuid4().hex, created_at=now, updated_at=now, user_ref=user_ref)
        self.save_session(session)
        return session

    def log_turn(self, session: Session, turn: dict[str, Any]) -> str:
        """Store one turn and the session's new state atomically (customer text redacted); returns its id.

        Of a session read from the database only the columns the turn changed are written, and the desk's
        (status, agent, waiting) only while the session still has the status the turn read: an agent who
        assigns, takes over or closes the session meanwhile is not undone by the customer's turn.
        `turn["public"]`: texts the reply drew on (knowledge-base passages), whose data the reply may keep.
        `turn["client_message_id"]`: the client's idempotency key; DuplicateTurn (and nothing written) when a
        turn with that key is already stored.
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
            "client_message_id": turn.get("client_message_id"),
        }
        public = list(turn.get("public", ()))  # the passages the reply quoted
        try:
            with self.engine.begin() as conn:  # a failed insert rolls the session's write back with it
                written = self._write_session(conn, session)
                conn.execute(insert(TURNS), private_row("turns", row, public))
        except IntegrityError:
            key = row["client_message_id"]
            if key is None or self.turn_by_client_id(key) is None:
                raise
            raise DuplicateTurn(f"a turn with client_message_id {key} is already logged") from None
        session.stored = written
        return turn_id

    def _write_session(self, conn: Connection, session: Session) -> dict[str, Any]:
        """Write the session's changes since it was read (all of it when it was not); returns the new
        snapshot of its columns."""
        values = _values(session)
        seen = session.stored
        if seen is None:
            conn.execute(self._upsert_session, private_row("sessions", values))
            return copy.deepcopy(values)
        changed = {k: v for k, v in values.items() if k not in ("id", "created_at") and v != seen.get(k)}
        own = {k: v for k, v in changed.items() if k not in DESK_COLUMNS}
        desk = {k: v for k, v in changed.items() if k in DESK_COLUMNS}
        params = {f"v_{k}": v for k, v in private_row("sessions", own).items()}
        found = conn.execute(session_update(tuple(sorted(own)), False), {"sid": session.id, **params})
        if not found.rowcount:  # removed meanwhile: the turn's session is stored afresh, whole
            conn.execute(self._upsert_session, private_row("sessions", values))
            return copy.deepcopy(values)
        if desk:
            params = {f"v_{k}": v for k, v in private_row("sessions", desk).items()}
            statement = session_update(tuple(sorted(desk)), True)
            conn.execute(statement, {"sid": session.id, "seen_status": seen["status"], **params})
        return copy.deepcopy(values)

    def save_session(self, session: Session) -> None:
        """Store the whole session row (a new session; a caller that sets every column on purpose)."""
        with self.engine.begin() as conn:
            conn.execute(self._upsert_session, private_row("sessions", _values(session)))
        session.stored = copy.deepcopy(_values(session))

    def history(self, session_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The session's last `limit` turns, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(LAST_TURNS, {"session_id": session_id, "limit": limit}).mappings().all()
        return [_turn_row(r) for r in reversed(rows)]

    def turn(self, turn_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(TURN_BY_ID, {"id": turn_id}).mappings().first()
        return _turn_row(row) if row is not None else None

    def turn_by_client_id(self, client_message_id: str) -> dict[str, Any] | None:
        """The turn logged with that idempotency key, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(TURN_BY_CLIENT_ID, {"client_message_id": client_message_id}).mappings().first()
        return _turn_row(row) if row is not None else None

    def began_session(self, turn: dict[str, Any]) -> bool:
        """Whether `turn` (a row read back) is the first of its session."""
        params = {"session_id": turn["session_id"], "created_at": turn["created_at"]}
        with self.engine.connect() as conn:
            return conn.execute(EARLIER_TURN, params).first() is None

    def add_agent_message(self, session_id: str, text: str, agent: str = "agent") -> dict[str, Any]:
        """A person's reply in a handed-off session; the customer sees it in the widget and the chat page."""
        with self.engine.begin() as conn:
            return self._agent_message(conn, session_id, text, agent)

    @staticmethod
    def _agent_message(conn: Connection, session_id: str, text: str, agent: str) -> dict[str, Any]:
        row = {
            "id": uuid.uuid4().hex,
            "session_id": session_id,
            "created_at": time.time(),
            "agent": agent,
            "text": text,
        }
        conn.execute(insert(AGENT_MESSAGES), private_row("agent_messages", row))
        touched = update(SESSIONS).where(SESSIONS.c.id == session_id).values(updated_at=row["created_at"])
        conn.execute(touched)
        return row

    def agent_messages(self, session_id: str, after: float = 0.0) -> list[dict[str, Any]]:
        query = (
            select(AGENT_MESSAGES)
            .where(AGENT_MESSAGES.c.session_id == session_id, AGENT_MESSAGES.c.created_at > after)
            .order_by(AGENT_MESSAGES.c.created_at)
        )
        with self.engine.connect() as conn:
            return plain_rows(conn.execute(query).mappings())

    def set_status(self, session_id: str, status: str) -> bool:
        """Change a session's status in one statement; closing also clears its failure count, so it never
        loops back. A new handoff waits from now, for nobody yet (see `Session.start_waiting`)."""
        now = time.time()
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status == HANDOFF:  # a session already waiting keeps its wait, agent and "told"
            fresh = SESSIONS.c.status.is_distinct_from(HANDOFF)
            values |= {
                "waiting_since": case((fresh, now), else_=SESSIONS.c.waiting_since),
                "told_waiting": case((fresh, 0), else_=SESSIONS.c.told_waiting),
                "agent": case((fresh, None), else_=SESSIONS.c.agent),
            }
        else:
            values["failures"] = 0
        with self.engine.begin() as conn:
            return (
                conn.execute(update(SESSIONS).where(SESSIONS.c.id == session_id).values(values)).rowcount > 0
            )

    def assign(self, session_id: str, agent: str, *, waiting: bool = False, unassigned: bool = False) -> bool:
        """Give a session to an agent (a name: the console user, the admin key's name). `waiting`: only while
        it waits for a person; `unassigned`: only while nobody has it. False when nothing changed."""
        statement = update(SESSIONS).where(SESSIONS.c.id == session_id).values(agent=agent)
        if waiting:
            statement = statement.where(SESSIONS.c.status == HANDOFF)
        if unassigned:
            statement = statement.where(SESSIONS.c.agent.is_(None))
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount > 0

    def close_handoff(self, session_id: str, text: str, agent: str) -> dict[str, Any] | None:
        """Close a session that waits for a person and send the customer `text` in `agent`'s name, in one
        transaction (whoever sees it closed sees the message too); None, and nothing sent, when the session
        was not waiting (another agent closed it first, or the bot has it)."""
        closed = (
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id, SESSIONS.c.status == HANDOFF)
            .values(status=CLOSED, failures=0, updated_at=time.time())
        )
        with self.engine.begin() as conn:
            if not conn.execute(closed).rowcount:
                return None
            return self._agent_message(conn, session_id, text, agent)

    def close(self) -> None:
        close_engine(self.engine)
