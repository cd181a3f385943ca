"""The conversation log's tables (sessions, turns, agent messages, feedback) as the code reads and writes them;
knowledge/database/revisions/conversations/ makes them. Same names, columns and indexes as the files the
previous release wrote with sqlite-utils, so an old home's conversations.db is adopted as it is."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    select,
    update,
)

metadata = MetaData()
SESSIONS = Table(
    "sessions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("created_at", Float),  # unix seconds, as every time here
    Column("updated_at", Float),
    Column("language", Text),
    Column("status", Text),  # open, handoff, closed
    Column("failures", Integer),
    Column("slots", Text),  # JSON
    Column("pending", Text),  # JSON
    Column("topic", Text),
    Column("offer", Text),
    Column("user_ref", Text),
    Column("agent", Text),
    Column("waiting_since", Float),
    Column("told_waiting", Integer),
    Index("idx_sessions_user_ref_updated_at", "user_ref", "updated_at"),
)
TURNS = Table(
    "turns",
    metadata,
    Column("id", Text, primary_key=True),
    Column("session_id", Text, ForeignKey("sessions.id")),
    Column("created_at", Float),
    Column("message", Text),
    Column("language", Text),
    Column("intent", Text),
    Column("confidence", Float),
    Column("route", Text),
    Column("sources", Text),  # JSON
    Column("reply", Text),
    Column("latency_ms", Float),
    Column("trace", Text),  # JSON
    # The client's idempotency key (`client_message_id` of POST /v1/chat): a retry finds the turn it answered.
    Column("client_message_id", Text),
    Index("idx_turns_session_id_created_at", "session_id", "created_at"),
    Index("idx_turns_created_at", "created_at"),
    Index("idx_turns_client_message_id", "client_message_id", unique=True),  # NULLs: any number of them
)
# What a person wrote into a handed-off session (not customer turns: they are not counted as turns).
AGENT_MESSAGES = Table(
    "agent_messages",
    metadata,
    Column("id", Text, primary_key=True),
    Column("session_id", Text, ForeignKey("sessions.id")),
    Column("created_at", Float),
    Column("agent", Text),
    Column("text", Text),
    Index("idx_agent_messages_session_id_created_at", "session_id", "created_at"),
)
# Thumbs up/down on a reply (assistant/feedback.py): one row per message, a later rating replaces it.
FEEDBACK = Table(
    "feedback",
    metadata,
    Column("message_id", Text, primary_key=True),
    Column("session_id", Text),
    Column("rating", Text),
    Column("comment", Text),
    Column("created_at", Float),
    Column("updated_at", Float),
)

# Built once: a turn runs them, and building a statement costs about as much as running it.
SESSION_BY_ID = select(SESSIONS).where(SESSIONS.c.id == bindparam("id"))
LATEST_OF_USER = (
    select(SESSIONS)
    .where(SESSIONS.c.user_ref == bindparam("user_ref"), SESSIONS.c.updated_at >= bindparam("since"))
    .order_by(SESSIONS.c.updated_at.desc())
    .limit(1)
)
TURN_BY_ID = select(TURNS).where(TURNS.c.id == bindparam("id"))
TURN_BY_CLIENT_ID = select(TURNS).where(TURNS.c.client_message_id == bindparam("client_message_id"))
# Whether a turn came before the given one in its session (a turn with none began its session).
EARLIER_TURN = (
    select(TURNS.c.id)
    .where(TURNS.c.session_id == bindparam("session_id"), TURNS.c.created_at < bindparam("created_at"))
    .limit(1)
)
LAST_TURNS = (
    select(TURNS)
    .where(TURNS.c.session_id == bindparam("session_id"))
    .order_by(TURNS.c.created_at.desc())
    .limit(bindparam("limit"))
)

# The session columns that belong to the agent's desk: a customer's turn writes them only when it changed them
# itself (a handoff it started, "told you a person will answer"), and only while the session still has the
# status the turn read, so an agent's assign, takeover or close made during the turn stands.
DESK_COLUMNS = frozenset({"status", "agent", "waiting_since", "told_waiting"})


@cache
def session_update(columns: tuple[str, ...], guarded: bool) -> Any:
    """UPDATE sessions SET <columns> WHERE id = :sid [AND status IS :seen_status]; the values bind as
    `v_<column>`. One statement per set of columns, built on first use (a handful in practice)."""
    statement = update(SESSIONS).where(SESSIONS.c.id == bindparam("sid"))
    if guarded:
        statement = statement.where(SESSIONS.c.status.is_not_distinct_from(bindparam("seen_status")))
    return statement.values({c: bindparam(f"v_{c}") for c in columns})
