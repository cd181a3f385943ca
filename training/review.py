"""The review queue: turns a person should look at, and the training examples they confirm.

HOME/review.db (SQLite, the default) or the `items` table of the shared PostgreSQL database (`database_url`),
through knowledge/database; revisions/review/ makes the table. Every replica reviews the same queue: an item
is resolved once (a conditional update on its status), whoever answers first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from knowledge.database import begin_write, close_engine, open_store, plain_rows
from knowledge.database.dialect_sql import joined
from knowledge.redaction import redact

PENDING, CONFIRMED, CORRECTED, DISCARDED = "pending", "confirmed", "corrected", "discarded"
# Resolutions take turns across replicas (a PostgreSQL advisory lock held for the transaction; on SQLite the
# write transaction's lock does it): a `same_text` resolution locks many rows, and two of them locking the same
# rows in different orders would deadlock. People review one item at a time: the wait is nothing.
RESOLVE_LOCK = int.from_bytes(b"review", "big")
_TAKE_TURNS = text("SELECT pg_advisory_xact_lock(:key)")

metadata = MetaData()
ITEMS = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("turn_id", Text),
    Column("session_id", Text),
    Column("created_at", Float),
    Column("text", Text),
    Column("language", Text),
    Column("predicted", Text),
    Column("confidence", Float),
    Column("reasons", Text),  # comma-separated reason codes (assistant/review_hooks.py)
    Column("status", Text),
    Column("label", Text),
    Column("reviewer", Text),
    Column("reviewed_at", Float),
    Index("idx_items_turn_id", "turn_id", unique=True),
    Index("idx_items_status", "status"),
)


def _key(column: Any) -> Any:
    """What makes two items the same question: their text, case and surrounding blanks aside."""
    return func.lower(func.trim(column))


# Items with `copies`: how many pending items (this one included) have the same text, and `copies_reasons`:
# why those were queued (comma-separated, repeats and all). Counted once per query and joined (a count per row
# took 2.3 s for 200 rows of a 20,000-item queue).
_I = ITEMS.alias("i")
_PENDING_COPIES = (
    select(_key(ITEMS.c.text).label("k"), func.count().label("n"), joined(ITEMS.c.reasons).label("r"))
    .where(ITEMS.c.status == PENDING)
    .group_by(_key(ITEMS.c.text))
    .cte("c")
)
_ROWS = select(
    _I,
    func.coalesce(_PENDING_COPIES.c.n, 0).label("copies"),
    func.coalesce(_PENDING_COPIES.c.r, "").label("copies_reasons"),
).select_from(_I.outerjoin(_PENDING_COPIES, _PENDING_COPIES.c.k == _key(_I.c.text)))


class HomeSettings(Protocol):
    """What the queue needs of the settings (assistant/config.py's Settings has it)."""

    @property
    def home(self) -> Path: ...

    @property
    def database_url(self) -> Any: ...


class AlreadyReviewed(Exception):
    """The item was resolved already (by another reviewer, perhaps on another replica); `item` says how."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__(f"review item {item['id']} is {item['status']} already")
        self.item = item


class ReviewQueue:
    """Items keyed by turn id; text is redacted before it is stored. Safe across threads and replicas."""

    def __init__(self, path: Path, *, database_url: Any = None) -> None:
        """The queue in the SQLite file `path`, or in PostgreSQL at `database_url`."""
        self.path = path
        self.engine = open_store(database_url, path, "review")
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        # RETURNING says whether it was inserted (rowcount is -1 on PostgreSQL through SQLAlchemy).
        self._insert_new = (
            dialect.insert(ITEMS).on_conflict_do_nothing(index_elements=["turn_id"]).returning(ITEMS.c.id)
        )

    @classmethod
    def from_settings(cls, settings: HomeSettings) -> ReviewQueue:
        """The configured queue: HOME/review.db, or the `items` table of `database_url`."""
        return cls(settings.home / "review.db", database_url=settings.database_url)

    def add(
        self,
        turn_id: str,
        text: str,
        reason: str,
        *,
        session_id: str = "",
        language: str = "",
        predicted: str | None = None,
        confidence: float = 0.0,
    ) -> bool:
        """Queue a turn (once; a second reason is appended). Returns True when the item is new."""
        row = {
            "turn_id": turn_id,
            "session_id": session_id,
            "created_at": time.time(),
            "text": redact(text),
            "language": language,
            "predicted": predicted,
            "confidence": confidence,
            "reasons": reason,
            "status": PENDING,
        }
        with begin_write(self.engine) as conn:
            if conn.execute(self._insert_new, row).first() is not None:
                return True
            # Queued already: add the reason, the row locked so that two replicas' reasons both stay.
            found = conn.execute(
                select(ITEMS.c.id, ITEMS.c.reasons).where(ITEMS.c.turn_id == turn_id).with_for_update()
            ).first()
            if found is not None:
                reasons = set((found.reasons or "").split(",")) - {""}
                if reason not in reasons:
                    merged = ",".join(sorted(reasons | {reason}))
                    conn.execute(update(ITEMS).where(ITEMS.c.id == found.id).values(reasons=merged))
            return False

    def items(
        self, status: str | None = PENDING, limit: int = 100, *, grouped: bool = False
    ) -> list[dict[str, Any]]:
        """Newest first; `copies` counts the pending items with the same text (this one included).

        `grouped`: a question asked by many is one item (the newest of them) with its count in `copies`;
        resolving it with `same_text` answers them all."""
        query = _ROWS
        if status:
            query = query.where(_I.c.status == status)
        if grouped:  # the newest item per text (and status)
            newest = func.row_number().over(
                partition_by=(_key(ITEMS.c.text), ITEMS.c.status),
                order_by=(ITEMS.c.created_at.desc(), ITEMS.c.id.desc()),
            )
            ranked = select(ITEMS.c.id, newest.label("n")).subquery()
            query = query.where(_I.c.id.in_(select(ranked.c.id).where(ranked.c.n == 1)))
        return self._rows(query.order_by(_I.c.created_at.desc(), _I.c.id.desc()).limit(limit))

    def get(self, item_id: int) -> dict[str, Any] | None:
        rows = self._rows(_ROWS.where(_I.c.id == item_id))
        return rows[0] if rows else None

    def resolve(
        self, item_id: int, label: str | None, reviewer: str = "admin", *, same_text: bool = False
    ) -> dict[str, Any]:
        """Confirm the predicted intent, correct it (`label`), or discard the item (`label=None`).

        Only a pending item is resolved, once: KeyError when there is no such item, AlreadyReviewed when it was
        resolved already (two reviewers, or two replicas, answering at once: the first one wins). With
        `same_text`, every other pending item with the same text gets the same answer in the same transaction
        (a question asked fifty times is reviewed once); the returned item's `also_resolved` counts those.
        """
        if label is None:
            status: Any = literal(DISCARDED)
        else:  # each copy is confirmed or corrected against its own prediction
            status = case((ITEMS.c.predicted == label, CONFIRMED), else_=CORRECTED)
        answer = {"status": status, "label": label, "reviewer": reviewer, "reviewed_at": time.time()}
        pending = ITEMS.c.status == PENDING
        with begin_write(self.engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(_TAKE_TURNS, {"key": RESOLVE_LOCK})
            question = conn.execute(
                update(ITEMS).where(ITEMS.c.id == item_id, pending).values(answer).returning(ITEMS.c.text)
            ).scalar()
            if question is None:
                done = self.get(item_id)
                if done is None:
                    raise KeyError(item_id)
                raise AlreadyReviewed(done)
            also = 0
            if same_text:
                copies = and_(pending, _key(ITEMS.c.text) == _key(literal(question)), ITEMS.c.id != item_id)
                also = conn.execute(update(ITEMS).where(copies).values(answer)).rowcount
        return {**(self.get(item_id) or {}), "also_resolved": also}

    def training_examples(self) -> tuple[list[str], list[str]]:
        """(texts, intents) of the confirmed or corrected items: one row per distinct text (case and blanks
        aside), with its latest answer. A question asked fifty times is one training example, not fifty that would
        outweigh the rest and, landing on one side of the held-out split together, skew its scores."""
        key = _key(ITEMS.c.text)
        ranked = (
            select(
                ITEMS.c.text,
                ITEMS.c.label,
                func.row_number()
                .over(partition_by=key, order_by=(ITEMS.c.reviewed_at.desc(), ITEMS.c.id.desc()))
                .label("newest"),
                func.min(ITEMS.c.id).over(partition_by=key).label("first"),
            )
            .where(or_(ITEMS.c.status == CONFIRMED, ITEMS.c.status == CORRECTED))
            .subquery()
        )
        rows = self._rows(
            select(ranked.c.text, ranked.c.label).where(ranked.c.newest == 1).order_by(ranked.c.first)
        )
        return [r["text"] for r in rows], [r["label"] for r in rows]

    def confirmed_turns(self) -> set[str]:
        """The turn ids of the items a reviewer confirmed (the bot's answer was right)."""
        rows = self._rows(select(ITEMS.c.turn_id).where(ITEMS.c.status == CONFIRMED))
        return {r["turn_id"] for r in rows}

    def reviewed_since(self, since: float) -> int:
        """How many items were confirmed or corrected after `since` (unix seconds), by anyone on any replica."""
        rows = self._rows(
            select(func.count().label("n")).where(
                or_(ITEMS.c.status == CONFIRMED, ITEMS.c.status == CORRECTED), ITEMS.c.reviewed_at > since
            )
        )
        return int(rows[0]["n"])

    def counts(self) -> dict[str, int]:
        rows = self._rows(select(ITEMS.c.status, func.count().label("n")).group_by(ITEMS.c.status))
        return {r["status"]: r["n"] for r in rows}

    def close(self) -> None:
        close_engine(self.engine)

    def __enter__(self) -> ReviewQueue:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _rows(self, query: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return plain_rows(conn.execute(query).mappings())
