"""Idempotent turns: a message sent again with the same `client_message_id` (a retry on another replica after
one died mid-request, a double send) gets the turn already logged, and nothing happens a second time: no log
row, no review item, no handoff event or webhook, no change to the session.

A key matches when the stored turn has the same message (redacted, as stored) and the same session: the one
the request names, or, for a request that started a session (none named, or one no longer live), the session
that turn began. Any other use of the key is a conflict (`MessageIdConflict`, HTTP 409)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.schema import ChatReply, IntentOut, SourceOut
from assistant.sources import logged_source
from assistant.stored_rows import private_row
from assistant.turn import MessageIdConflict

if TYPE_CHECKING:
    from assistant.conversations import ConversationStore


def stored_reply(
    store: ConversationStore, text: str, session_id: str | None, client_message_id: str
) -> ChatReply | None:
    """The reply of the turn logged with `client_message_id` (`text`: the checked, stripped message), None
    when there is none; MessageIdConflict when that turn answered another message or session."""
    stored = store.turn_by_client_id(client_message_id)
    if stored is None:
        return None
    same_message = stored["message"] == private_row("turns", {"message": text})["message"]
    if not same_message or not _same_session(store, stored, session_id):
        raise MessageIdConflict(
            "This client_message_id was already used for another message or session; send a new one."
        )
    return reply_of(stored)


def _same_session(store: ConversationStore, stored: dict[str, Any], session_id: str | None) -> bool:
    if session_id == stored["session_id"]:
        return True
    if session_id is not None and store.session(session_id).id == session_id:
        return False  # another live session
    # The request started a session (it named none, or one unknown or expired): the turn must have begun one.
    return store.began_session(stored)


def reply_of(stored: dict[str, Any]) -> ChatReply:
    """A logged turn as the reply it was (its reply and sources as stored, i.e. redacted)."""
    return ChatReply(
        session_id=stored["session_id"],
        message_id=stored["id"],
        reply=stored["reply"] or "",
        language=stored["language"] or "en",
        intent=IntentOut(name=stored["intent"], confidence=round(stored["confidence"] or 0.0, 4)),
        route=stored["route"] or "fallback",
        sources=[SourceOut(**logged_source(s)) for s in stored["sources"] or []],
        latency_ms=round(stored["latency_ms"] or 0.0, 2),
    )
