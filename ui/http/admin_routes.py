"""The admin API's read side: counts, one session, one turn with its full trace (admin key only)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from assistant import analytics
from assistant.conversations import HANDOFF
from assistant.feedback import feedback_store
from assistant.pipeline import Assistant
from assistant.schema import ErrorResponse
from ui.http.security import ADMIN_PREFIX, require_admin


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
        return {
            **store.counts(),
            "routes": store.route_counts(),
            "handoff_sessions": store.count_with_status(HANDOFF),
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
        return analytics.summary(store, days or None, limit=limit)

    @router.get("/sessions/{session_id}")
    def session(session_id: str) -> dict[str, Any]:
        """One session's state and all its turns with their traces, oldest first."""
        store = assistant.live_store()
        row = store.session_row(session_id)
        if row is None:
            raise HTTPException(404, {"code": "not_found", "message": "No such session."})
        for key in ("slots", "pending"):
            row[key] = json.loads(row[key]) if row.get(key) else None
        turns = store.history(session_id, limit=10_000)
        ratings = store.ratings([t["id"] for t in turns])
        for t in turns:
            t["feedback"] = ratings.get(t["id"])
        return {"session": row, "turns": turns}

    @router.get("/turns/{turn_id}")
    def turn(turn_id: str) -> dict[str, Any]:
        """One turn: message, reply, route, intent, sources, latency and the full trace."""
        store = assistant.live_store()
        found = store.turn(turn_id)
        if found is None:
            raise HTTPException(404, {"code": "not_found", "message": "No such turn."})
        found["feedback"] = store.ratings([turn_id]).get(turn_id)
        return found

    return router
