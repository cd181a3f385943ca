"""Conversation analytics for the admin console and `GET /v1/admin/analytics`: plain SQL over the
conversation database (turns, sessions, feedback), no state of its own.

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

from assistant.conversations import ConversationStore

DAY_S = 24 * 3600
ANSWERED_ROUTES = ("template", "rag")


def _rows(
    store: ConversationStore, sql: str, params: list[Any] | tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    return store.rows(sql, params)


def _has_feedback(store: ConversationStore) -> bool:
    return bool(_rows(store, "select 1 from sqlite_master where type = 'table' and name = 'feedback'"))


def since_ts(days: int | None, now: float | None = None) -> float:
    """The start of a window of `days` days ending now (0.0, i.e. everything, when days is None or <= 0)."""
    if not days or days <= 0:
        return 0.0
    return (now if now is not None else time.time()) - days * DAY_S


def conversations_per_day(store: ConversationStore, since: float = 0.0) -> list[dict[str, Any]]:
    """Per UTC day: conversations (sessions with a turn that day), customer turns, handoffs."""
    rows = _rows(
        store,
        "select date(created_at, 'unixepoch') as day, count(distinct session_id), count(*),"
        " sum(case when route = 'handoff' then 1 else 0 end)"
        " from turns where created_at >= ? group by day order by day",
        [since],
    )
    return [{"day": d, "conversations": c, "turns": t, "handoffs": h or 0} for d, c, t, h in rows]


def resolution(store: ConversationStore, since: float = 0.0) -> dict[str, Any]:
    """Customer turns, resolved turns and the resolution (deflection) rate; see the module docstring."""
    down = (
        "and not exists (select 1 from feedback f where f.message_id = t.id and f.rating = 'down')"
        if _has_feedback(store)
        else ""
    )
    total, resolved = _rows(
        store,
        "select count(*), coalesce(sum(case when t.route in ('template', 'rag')"
        " and not exists (select 1 from turns h where h.session_id = t.session_id and h.route = 'handoff'"
        f" and h.created_at >= t.created_at) {down} then 1 else 0 end), 0)"
        " from turns t where t.created_at >= ?",
        [since],
    )[0]
    handed = _rows(
        store,
        "select count(distinct session_id) from turns where route = 'handoff' and created_at >= ?",
        [since],
    )[0][0]
    sessions = _rows(store, "select count(distinct session_id) from turns where created_at >= ?", [since])[0][
        0
    ]
    return {
        "customer_turns": total,
        "resolved_turns": resolved,
        "resolution_rate": round(resolved / total, 4) if total else None,
        "sessions": sessions,
        "handoff_sessions": handed,
        "handoff_rate": round(handed / sessions, 4) if sessions else None,
    }


def routes(store: ConversationStore, since: float = 0.0) -> dict[str, int]:
    """Turns per route."""
    rows = _rows(
        store,
        "select route, count(*) from turns where created_at >= ? group by route order by 2 desc",
        [since],
    )
    return {r or "unknown": n for r, n in rows}


def top_intents(store: ConversationStore, since: float = 0.0, limit: int = 10) -> list[dict[str, Any]]:
    """The most frequent predicted intents with their mean confidence."""
    rows = _rows(
        store,
        "select intent, count(*), avg(confidence) from turns where intent is not null and intent != ''"
        " and created_at >= ? group by intent order by 2 desc, 1 limit ?",
        [since, limit],
    )
    return [{"intent": i, "turns": n, "mean_confidence": round(c or 0.0, 4)} for i, n, c in rows]


def top_unanswered(store: ConversationStore, since: float = 0.0, limit: int = 10) -> list[dict[str, Any]]:
    """Fallback turns grouped by their text (trimmed, lower-cased), most frequent first."""
    rows = _rows(
        store,
        "select lower(trim(message)) as q, count(*), max(created_at), max(language),"
        " (select t2.id from turns t2 where t2.route = 'fallback' and lower(trim(t2.message)) = lower(trim(t.message))"
        "  order by t2.created_at desc limit 1)"
        " from turns t where route = 'fallback' and created_at >= ? group by q order by 2 desc, 3 desc limit ?",
        [since, limit],
    )
    return [
        {"question": q, "count": n, "last_seen": ts, "language": lang, "last_turn_id": tid}
        for q, n, ts, lang, tid in rows
    ]


def feedback(store: ConversationStore, since: float = 0.0) -> dict[str, Any]:
    """Thumbs up / down counts on turns of the window, and the share of each among rated turns."""
    if not _has_feedback(store):
        up = down = 0
    else:
        rows = dict(
            _rows(
                store,
                "select f.rating, count(*) from feedback f join turns t on t.id = f.message_id"
                " where t.created_at >= ? group by f.rating",
                [since],
            )
        )
        up, down = rows.get("up", 0), rows.get("down", 0)
    rated = up + down
    total = _rows(store, "select count(*) from turns where created_at >= ?", [since])[0][0]
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
    for route, ms in _rows(
        store, "select route, latency_ms from turns where latency_ms is not null and created_at >= ?", [since]
    ):
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
