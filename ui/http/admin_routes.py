"""The admin API's read side: counts, one session, one turn with its full trace (admin key only)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from assistant import analytics
from assistant.conversations import ConversationStore
from assistant.feedback import feedback_store
from assistant.pipeline import Assistant
from assistant.schema import ErrorResponse
from ui.http.security import ADMIN_PREFIX, require_admin


def _ratings(store: ConversationStore, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = store.rows(
        f"select message_id, rating, comment, updated_at from feedback where message_id in ({marks})", ids
    )
    return {r[0]: {"rating": r[1], "comment": r[2], "updated_at": r[3]} for r in rows}


def admin_router(assistant: Assistant) -> APIRouter:
    errors = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}}
    router = APIRouter(
        prefix=ADMIN_PREFIX, tags=["admin"], dependencies=[Depends(require_admin)], responses=errors
    )

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        """Turns, sessions, turns per route, sessions with a person, and feedback counts."""
        store = assistant.live_store()
        feedback = feedback_store(assistant)
        routes = dict(store.rows("select route, count(*) from turns group by route"))
        handoff = store.rows("select count(*) from sessions where status = 'handoff'")[0][0]
        return {
            **store.counts(),
            "routes": routes,
            "handoff_sessions": handoff,
            "feedback": feedback.counts(),
        }

    @router.get("/analytics")
    def analytics_summary(
        days: int = Query(30, ge=0, le=3650, description="Window in days ending now; 0 means all time."),
        limit: int = Query(10, ge=1, le=100, description="Rows in the top-intents and unanswered lists."),
    ) -> dict[str, Any]:
        """Conversations per day, resolution rate, routes, top intents, top unanswered questions,
        thumbs up/down and latency p50/p95 per route (definitions in `assistant/analytics.py`)."""
        store = assistant.live_store()
        feedback_store(assistant)  # the feedback table exists from here on
        return analytics.summary(store, days or None, limit=limit)

    @router.get("/sessions/{session_id}")
    def session(session_id: str) -> dict[str, Any]:
        """One session's state and all its turns with their traces, oldest first."""
        store = assistant.live_store()
        feedback_store(assistant)  # the feedback table exists from here on
        rows = store.records("select * from sessions where id = ?", [session_id])
        if not rows:
            raise HTTPException(404, {"code": "not_found", "message": "No such session."})
        row = rows[0]
        for key in ("slots", "pending"):
            row[key] = json.loads(row[key]) if row.get(key) else None
        turns = store.history(session_id, limit=10_000)
        ratings = _ratings(store, [t["id"] for t in turns])
        for t in turns:
            t["feedback"] = ratings.get(t["id"])
        return {"session": row, "turns": turns}

    @router.get("/turns/{turn_id}")
    def turn(turn_id: str) -> dict[str, Any]:
        """One turn: message, reply, route, intent, sources, latency and the full trace."""
        store = assistant.live_store()
        feedback_store(assistant)
        found = store.turn(turn_id)
        if found is None:
            raise HTTPException(404, {"code": "not_found", "message": "No such turn."})
        found["feedback"] = _ratings(store, [turn_id]).get(turn_id)
        return found

    return router
