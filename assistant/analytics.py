"""Conversation analytics for the admin console and `GET /v1/admin/analytics`: Core queries (SQLite and
PostgreSQL alike) over the conversation log's shared tables, so every replica's turns count; no state of its own.

Definitions (one place, so the console, the API and the tests agree):

- a *customer turn* is one logged row of `turns` (every message a customer sent);
- a turn is *resolved* (deflected) when the bot answered it itself (route `template` or `rag`), the customer
  did not rate it thumbs-down, and the session was not handed to a person at that turn or any later one;
- the *resolution rate* is resolved turns over all customer turns in the window;
- an *unanswered question* is a turn with route `fallback`, grouped by its (redacted, lower-cased) text;
- latency percentiles are nearest-rank p50 / p95 of `latency_ms` per route.
"""

from __future__ import annotations

import math
import time
from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, select

from assistant.conversation_tables import FEEDBACK, TURNS
from assistant.conversations import ConversationStore
from knowledge.database.dialect_sql import utc_day

DAY_S = 24 * 3600
ANSWERED_ROUTES = ("template", "rag")


def since_ts(days: int | None, now: float | None = None) -> float:
    """The start of a window of `days` days ending now (0.0, i.e. everything, when days is None or <= 0)."""
    if not days or days <= 0:
        return 0.0
    return (now if now is not None else time.time()) - days * DAY_S


def conversations_per_day(store: ConversationStore, since: float = 0.0) -> list[dict[str, Any]]:
    """Per UTC day: conversations (sessions with a turn that day), customer turns, handoffs."""
    day = utc_day(TURNS.c.created_at)
    handoffs = func.sum(case((TURNS.c.route == "handoff", 1), else_=0))
    query = (
        select(day, func.count(distinct(TURNS.c.session_id)), func.count(), handoffs)
        .where(TURNS.c.created_at >= since)
        .group_by(day)
        .order_by(day)
    )
    return [
        {"day": d, "conversations": c, "turns": t, "handoffs": h or 0} for d, c, t, h in store.read(query)
    ]


def resolution(store: ConversationStore, since: float = 0.0) -> dict[str, Any]:
    """Customer turns, resolved turns and the resolution (deflection) rate; see the module docstring."""
    t, h, f = TURNS.alias("t"), TURNS.alias("h"), FEEDBACK.alias("f")
    handed_later = exists().where(
        h.c.session_id == t.c.session_id, h.c.route == "handoff", h.c.created_at >= t.c.created_at
    )
    rated_down = exists().where(f.c.message_id == t.c.id, f.c.rating == "down")
    resolved = case((and_(t.c.route.in_(ANSWERED_ROUTES), ~handed_later, ~rated_down), 1), else_=0)
    total, done = store.read(
        select(func.count(), func.coalesce(func.sum(resolved), 0)).where(t.c.created_at >= since)
    )[0]
    in_window = TURNS.c.created_at >= since
    handed = store.read(
        select(func.count(distinct(TURNS.c.session_id))).where(TURNS.c.route == "handoff", in_window)
    )[0][0]
    sessions = store.read(select(func.count(distinct(TURNS.c.session_id))).where(in_window))[0][0]
    return {
        "customer_turns": total,
        "resolved_turns": done,
        "resolution_rate": round(done / total, 4) if total else None,
        "sessions": sessions,
        "handoff_sessions": handed,
        "handoff_rate": round(handed / sessions, 4) if sessions else None,
    }


def routes(store: ConversationStore, since: float = 0.0) -> dict[str, int]:
    """Turns per route, busiest first."""
    n = func.count()
    query = (
        select(TURNS.c.route, n)
        .where(TURNS.c.created_at >= since)
        .group_by(TURNS.c.route)
        .order_by(n.desc(), TURNS.c.route)
    )
    return {r or "unknown": c for r, c in store.read(query)}


def top_intents(store: ConversationStore, since: float = 0.0, limit: int = 10) -> list[dict[str, Any]]:
    """The most frequent predicted intents with their mean confidence."""
    n = func.count()
    query = (
        select(TURNS.c.intent, n, func.avg(TURNS.c.confidence))
        .where(TURNS.c.intent.is_not(None), TURNS.c.intent != "", TURNS.c.created_at >= since)
        .group_by(TURNS.c.intent)
        .order_by(n.desc(), TURNS.c.intent)
        .limit(limit)
    )
    return [{"intent": i, "turns": c, "mean_confidence": round(m or 0.0, 4)} for i, c, m in store.read(query)]


def top_unanswered(store: ConversationStore, since: float = 0.0, limit: int = 10) -> list[dict[str, Any]]:
    """Fallback turns grouped by their text (trimmed, lower-cased), most frequent first, each with the id of
    its latest turn."""
    question = func.lower(func.trim(TURNS.c.message))
    n, last = func.count(), func.max(TURNS.c.created_at)
    fallback = TURNS.c.route == "fallback"
    query = (
        select(question, n, last, func.max(TURNS.c.language))
        .where(fallback, TURNS.c.created_at >= since)
        .group_by(question)
        .order_by(n.desc(), last.desc())
        .limit(limit)
    )
    rows = store.read(query)
    newest = func.row_number().over(partition_by=question, order_by=(TURNS.c.created_at.desc(), TURNS.c.id))
    ranked = (
        select(TURNS.c.id, question.label("q"), newest.label("n"))
        .where(fallback, question.in_([r[0] for r in rows]))
        .subquery()
    )
    latest = {q: tid for tid, q in store.read(select(ranked.c.id, ranked.c.q).where(ranked.c.n == 1))}
    return [
        {"question": q, "count": c, "last_seen": ts, "language": lang, "last_turn_id": latest.get(q)}
        for q, c, ts, lang in rows
    ]


def feedback(store: ConversationStore, since: float = 0.0) -> dict[str, Any]:
    """Thumbs up / down counts on turns of the window, and the share of each among rated turns."""
    query = (
        select(FEEDBACK.c.rating, func.count())
        .join(TURNS, TURNS.c.id == FEEDBACK.c.message_id)
        .where(TURNS.c.created_at >= since)
        .group_by(FEEDBACK.c.rating)
    )
    counted = {r: c for r, c in store.read(query)}
    up, down = counted.get("up", 0), counted.get("down", 0)
    rated = up + down
    total = store.read(select(func.count()).where(TURNS.c.created_at >= since))[0][0]
    return {
        "up": up,
        "down": down,
        "rated": rated,
        "up_rate": round(up / rated, 4) if rated else None,
        "down_rate": round(down / rated, 4) if rated else None,
        "rated_share": round(rated / total, 4) if total else None,
    }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_by_route(store: ConversationStore, since: float = 0.0) -> list[dict[str, Any]]:
    """p50 / p95 / max latency (ms) and the turn count per route, busiest route first."""
    by_route: dict[str, list[float]] = {}
    query = select(TURNS.c.route, TURNS.c.latency_ms).where(
        TURNS.c.latency_ms.is_not(None), TURNS.c.created_at >= since
    )
    for route, ms in store.read(query):
        by_route.setdefault(route or "unknown", []).append(float(ms))
    out = []
    for route, values in sorted(by_route.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        out.append(
            {
                "route": route,
                "turns": len(values),
                "p50_ms": round(percentile(values, 50) or 0.0, 1),
                "p95_ms": round(percentile(values, 95) or 0.0, 1),
                "max_ms": round(max(values), 1),
            }
        )
    return out


def summary(
    store: ConversationStore, days: int | None = 30, now: float | None = None, limit: int = 10
) -> dict[str, Any]:
    """Everything the analytics tab shows, for the last `days` days (None: all time)."""
    since = since_ts(days, now)
    return {
        "window": {"days": days, "since": since},
        "per_day": conversations_per_day(store, since),
        "resolution": resolution(store, since),
        "routes": routes(store, since),
        "top_intents": top_intents(store, since, limit),
        "top_unanswered": top_unanswered(store, since, limit),
        "feedback": feedback(store, since),
        "latency": latency_by_route(store, since),
    }
