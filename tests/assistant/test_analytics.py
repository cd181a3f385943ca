"""Analytics on a real conversation database (a SQLite file, and PostgreSQL): a few logged turns and ratings →
the numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from assistant import analytics
from assistant.conversation_tables import TURNS
from assistant.conversations import ConversationStore
from assistant.feedback import FeedbackStore

DAY = 24 * 3600
T0 = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC


def _turn(
    store: ConversationStore,
    session_id: str,
    message: str,
    route: str,
    *,
    intent: str | None = None,
    latency: float = 100.0,
    at: float = T0,
) -> str:
    session = store.session(session_id)
    session.id = session_id
    turn_id = store.log_turn(
        session,
        {
            "message": message,
            "route": route,
            "intent": intent,
            "confidence": 0.9,
            "language": "en",
            "latency_ms": latency,
            "reply": "ok",
        },
    )
    with store.engine.begin() as conn:
        conn.execute(update(TURNS).where(TURNS.c.id == turn_id).values(created_at=at))
    return turn_id


@pytest.fixture
def store(database_url: str | None, tmp_path: Path) -> ConversationStore:
    s = ConversationStore(tmp_path / "conversations.db", database_url=database_url)
    # Session a (day 1): two answered turns, the second rated down.
    _turn(s, "a", "how do refunds work", "template", intent="refund_policy", latency=10, at=T0)
    a2 = _turn(s, "a", "and for gift cards?", "rag", intent="gift_cards", latency=30, at=T0 + 60)
    # Session b (day 1): answered, then unanswered twice, then handed off: the answered turn is not resolved.
    _turn(s, "b", "where is my order", "template", intent="order_status", latency=20, at=T0 + 120)
    _turn(s, "b", "What is the weather?", "fallback", intent="out_of_scope", latency=5, at=T0 + 180)
    _turn(s, "b", "what is the weather? ", "fallback", intent="out_of_scope", latency=7, at=T0 + 240)
    _turn(s, "b", "a human please", "handoff", intent="human_agent", latency=6, at=T0 + 300)
    # Session c (day 2): one answered turn, rated up; one unanswered.
    c1 = _turn(s, "c", "reset my password", "template", intent="reset_password", latency=40, at=T0 + DAY)
    _turn(s, "c", "tell me a joke", "fallback", intent="out_of_scope", latency=9, at=T0 + DAY + 60)
    fb = FeedbackStore(s)
    fb.record(a2, "down", "not helpful")
    fb.record(c1, "up", None)
    return s


def test_conversations_per_day(store: ConversationStore) -> None:
    assert analytics.conversations_per_day(store) == [
        {"day": "2025-06-15", "conversations": 2, "turns": 6, "handoffs": 1},
        {"day": "2025-06-16", "conversations": 1, "turns": 2, "handoffs": 0},
    ]


def test_resolution_excludes_thumbs_down_and_handed_off_sessions(store: ConversationStore) -> None:
    r = analytics.resolution(store)
    # Resolved: a1 (template), c1 (template). Not: a2 (thumbs down), b1 (session handed off later),
    # the fallbacks and the handoff itself.
    assert r["customer_turns"] == 8 and r["resolved_turns"] == 2 and r["resolution_rate"] == 0.25
    assert r["sessions"] == 3 and r["handoff_sessions"] == 1 and r["handoff_rate"] == round(1 / 3, 4)


def test_top_intents_and_unanswered(store: ConversationStore) -> None:
    top = analytics.top_intents(store)
    assert top[0] == {"intent": "out_of_scope", "turns": 3, "mean_confidence": 0.9}
    assert {t["intent"] for t in top} == {
        "out_of_scope",
        "refund_policy",
        "gift_cards",
        "order_status",
        "human_agent",
        "reset_password",
    }
    unanswered = analytics.top_unanswered(store)
    assert [(u["question"], u["count"]) for u in unanswered] == [
        ("what is the weather?", 2),
        ("tell me a joke", 1),
    ]
    assert unanswered[0]["last_turn_id"]


def test_feedback_rates(store: ConversationStore) -> None:
    assert analytics.feedback(store) == {
        "up": 1,
        "down": 1,
        "rated": 2,
        "up_rate": 0.5,
        "down_rate": 0.5,
        "rated_share": 0.25,
    }


def test_latency_percentiles_per_route(store: ConversationStore) -> None:
    by_route = {r["route"]: r for r in analytics.latency_by_route(store)}
    assert by_route["template"] == {
        "route": "template",
        "turns": 3,
        "p50_ms": 20.0,
        "p95_ms": 40.0,
        "max_ms": 40.0,
    }
    assert by_route["fallback"]["p50_ms"] == 7.0 and by_route["rag"]["turns"] == 1
    assert analytics.percentile([], 50) is None
    assert analytics.percentile([float(i) for i in range(1, 101)], 95) == 95.0


def test_window_and_summary(store: ConversationStore, tmp_path: Path) -> None:
    # A 1-day window ending just after day 2's turns sees only session c.
    s = analytics.summary(store, days=1, now=T0 + DAY + 3600)
    assert s["resolution"]["customer_turns"] == 2 and s["resolution"]["resolved_turns"] == 1
    assert [d["day"] for d in s["per_day"]] == ["2025-06-16"]
    assert s["routes"] == {"template": 1, "fallback": 1}
    assert s["feedback"]["up"] == 1 and s["feedback"]["down"] == 0
    # An empty log gives zeros, not errors.
    empty = analytics.summary(ConversationStore(tmp_path / "empty.db"), days=None)
    assert empty["resolution"]["resolution_rate"] is None and empty["feedback"]["rated"] == 0
    assert empty["per_day"] == [] and empty["latency"] == []
