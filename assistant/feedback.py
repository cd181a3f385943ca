"""Thumbs up/down on a reply, kept next to the turns in the conversation database (the HTTP route:
ui/http/feedback_routes.py)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from assistant.conversation_tables import FEEDBACK
from assistant.conversations import ConversationStore
from assistant.pipeline import Assistant
from knowledge.redaction import redact

log = logging.getLogger("lepton.feedback")


class FeedbackStore:
    """One row per message in the `feedback` table (the conversation log's database, made by its migrations);
    a later rating replaces the earlier one."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        dialect = postgresql if store.engine.dialect.name == "postgresql" else sqlite
        new = dialect.insert(FEEDBACK)
        self._upsert = new.on_conflict_do_update(
            index_elements=["message_id"],
            set_={k: new.excluded[k] for k in ("rating", "comment", "updated_at")},
        )

    def record(self, message_id: str, rating: str, comment: str | None) -> dict[str, Any] | None:
        """Store the rating of a logged turn; None when there is no such turn."""
        turn = self.store.turn(message_id)
        if turn is None:
            return None
        now = time.time()
        row = {
            "message_id": message_id,
            "session_id": turn["session_id"],
            "rating": rating,
            "comment": redact(comment) if comment else None,
            "created_at": now,
            "updated_at": now,
        }
        with self.store.engine.begin() as conn:
            conn.execute(self._upsert, row)
        return row

    def counts(self) -> dict[str, int]:
        rows = self.store.read(select(FEEDBACK.c.rating, func.count()).group_by(FEEDBACK.c.rating))
        return {"up": 0, "down": 0} | {r[0]: r[1] for r in rows}


_stores: dict[int, FeedbackStore] = {}
_stores_lock = threading.Lock()


def feedback_store(assistant: Assistant) -> FeedbackStore:
    """The feedback table of the assistant's conversation database (created on first use)."""
    assistant.live_store()
    with _stores_lock:
        found = _stores.get(id(assistant.store))
        if found is None or found.store is not assistant.store:
            found = _stores[id(assistant.store)] = FeedbackStore(assistant.store)
        return found


def emit(assistant: Assistant, kind: str, payload: dict[str, Any]) -> None:
    """Tell the assistant's listeners (review queue, webhooks); a failing listener is logged, not raised."""
    for listener in list(assistant.listeners):
        try:
            listener(kind, payload)
        except Exception:
            log.exception("event listener failed on %s", kind)


def rate(
    assistant: Assistant, message_id: str, rating: str, comment: str | None = None
) -> dict[str, Any] | None:
    """Store a rating of one reply and tell the listeners; None when there is no such reply."""
    row = feedback_store(assistant).record(message_id, rating, comment)
    if row is not None:
        emit(assistant, "feedback", {k: row[k] for k in ("message_id", "session_id", "rating", "comment")})
    return row
