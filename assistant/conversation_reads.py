"""The conversation log's read side for the desks, the admin API, the console and training: named queries that
run on SQLite and PostgreSQL alike (the callers hold no SQL). `ConversationStore` inherits them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import distinct, exists, func, or_, select

from assistant.conversation_tables import FEEDBACK, SESSIONS, TURNS
from knowledge.database import plain_rows

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine, Row
    from sqlalchemy.sql import Executable

# Ids per IN (...) list: far under SQLite's limit on bound parameters.
CHUNK = 500


class ConversationReads:
    """Queries over sessions, turns and feedback; `engine` is the store's."""

    engine: Engine

    def read(self, statement: Executable) -> list[Row[Any]]:
        """The rows (named tuples) of a Core query over the store's tables (analytics builds its own:
        assistant/analytics.py)."""
        with self.engine.connect() as conn:
            return list(conn.execute(statement))

    def _records(self, statement: Executable) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return plain_rows(conn.execute(statement).mappings())

    def counts(self) -> dict[str, int]:
        """Customer turns, and the sessions that have one."""
        (row,) = self.read(select(func.count().label("turns"), func.count(distinct(TURNS.c.session_id))))
        return {"turns": row[0], "sessions": row[1]}

    def route_counts(self) -> dict[str | None, int]:
        """Turns per route."""
        query = select(TURNS.c.route, func.count()).group_by(TURNS.c.route)
        return {r[0]: r[1] for r in self.read(query)}

    def count_with_status(self, status: str) -> int:
        (row,) = self.read(select(func.count()).where(SESSIONS.c.status == status))
        return row[0]

    def session_row(self, session_id: str) -> dict[str, Any] | None:
        """The session's stored columns as they are (the admin API's view), or None."""
        rows = self._records(select(SESSIONS).where(SESSIONS.c.id == session_id))
        return rows[0] if rows else None

    def sessions_with_status(self, status: str, limit: int = 100) -> list[dict[str, Any]]:
        """Sessions in `status`, most recently active first, with their last customer message."""
        t = TURNS.alias("t")
        last = (
            select(t.c.message)
            .where(t.c.session_id == SESSIONS.c.id)
            .order_by(t.c.created_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(
                SESSIONS.c.id,
                SESSIONS.c.language,
                SESSIONS.c.status,
                SESSIONS.c.updated_at,
                SESSIONS.c.created_at,
                SESSIONS.c.agent,
                func.coalesce(SESSIONS.c.waiting_since, SESSIONS.c.updated_at).label("waiting_since"),
                SESSIONS.c.user_ref,
                last.label("last_message"),
            )
            .where(SESSIONS.c.status == status)
            .order_by(SESSIONS.c.updated_at.desc())
            .limit(limit)
        )
        return self._records(query)

    def earlier_sessions(self, user_ref: str, but: str, limit: int = 10) -> list[dict[str, Any]]:
        """The user's other sessions, latest first: when, their status, turns and first message."""
        t = TURNS.alias("t")
        turns = select(func.count()).where(t.c.session_id == SESSIONS.c.id).scalar_subquery()
        first = (
            select(t.c.message)
            .where(t.c.session_id == SESSIONS.c.id)
            .order_by(t.c.created_at)
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(
                SESSIONS.c.id,
                SESSIONS.c.created_at,
                SESSIONS.c.updated_at,
                SESSIONS.c.status,
                SESSIONS.c.language,
                turns.label("turns"),
                first.label("first_message"),
            )
            .where(SESSIONS.c.user_ref == user_ref, SESSIONS.c.id != but)
            .order_by(SESSIONS.c.updated_at.desc())
            .limit(limit)
        )
        return self._records(query)

    def recent_turns(self, route: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The latest turns (of one route, or all), newest first, without their traces."""
        query = select(
            TURNS.c.id,
            TURNS.c.created_at,
            TURNS.c.message,
            TURNS.c.route,
            TURNS.c.intent,
            TURNS.c.confidence,
            TURNS.c.latency_ms,
        )
        if route:
            query = query.where(TURNS.c.route == route)
        return self._records(query.order_by(TURNS.c.created_at.desc()).limit(limit))

    def replies(self, turn_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{turn id: {reply, route, sources (JSON text)}} of those turns still in the log."""
        found: dict[str, dict[str, Any]] = {}
        columns = (TURNS.c.id, TURNS.c.reply, TURNS.c.route, TURNS.c.sources)
        for chunk in _chunks(turn_ids):
            for tid, reply, route, sources in self.read(select(*columns).where(TURNS.c.id.in_(chunk))):
                found[tid] = {"reply": reply, "route": route, "sources": sources}
        return found

    def ratings(self, message_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{message id: {rating, comment, updated_at}} of the rated ones among `message_ids`."""
        found: dict[str, dict[str, Any]] = {}
        columns = (FEEDBACK.c.message_id, FEEDBACK.c.rating, FEEDBACK.c.comment, FEEDBACK.c.updated_at)
        for chunk in _chunks(message_ids):
            for mid, rating, comment, updated in self.read(
                select(*columns).where(FEEDBACK.c.message_id.in_(chunk))
            ):
                found[mid] = {"rating": rating, "comment": comment, "updated_at": updated}
        return found

    def turns_for_training(self, routes: Iterable[str]) -> list[dict[str, Any]]:
        """Turns rated thumbs-up (`liked`) or answered by one of `routes`, oldest first: the generator's
        candidate pairs (training/generator_pairs.py decides which count)."""
        liked = exists().where(FEEDBACK.c.message_id == TURNS.c.id, FEEDBACK.c.rating == "up")
        query = (
            select(
                TURNS.c.id,
                TURNS.c.message,
                TURNS.c.reply,
                TURNS.c.route,
                TURNS.c.language,
                TURNS.c.sources,
                liked.label("liked"),
            )
            .where(or_(liked, TURNS.c.route.in_(list(routes))))
            .order_by(TURNS.c.created_at, TURNS.c.id)
        )
        return self._records(query)


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]
