"""`GET /v1/admin/analytics`: admin key only, and the numbers follow the turns and ratings."""

from __future__ import annotations

import httpx


def test_analytics_needs_an_admin_key(live) -> None:
    assert httpx.get(f"{live.url}/v1/admin/analytics").status_code == 401
    widget = {"Authorization": f"Bearer {live.widget_key}"}
    assert httpx.get(f"{live.url}/v1/admin/analytics", headers=widget).status_code == 403


def test_analytics_follow_turns_and_feedback(live) -> None:
    admin = {"Authorization": f"Bearer {live.admin_key}"}

    def summary(**params: int) -> dict:
        r = httpx.get(f"{live.url}/v1/admin/analytics", headers=admin, params=params, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    before = summary(days=0)
    assert set(before) == {
        "window",
        "per_day",
        "resolution",
        "routes",
        "top_intents",
        "top_unanswered",
        "feedback",
        "latency",
    }
    turn = httpx.post(f"{live.url}/v1/chat", json={"message": "How long do refunds take?"}, timeout=60).json()
    assert (
        httpx.post(
            f"{live.url}/v1/feedback", json={"message_id": turn["message_id"], "rating": "down"}
        ).status_code
        == 200
    )
    after = summary(days=7, limit=5)
    assert after["window"]["days"] == 7
    assert after["resolution"]["customer_turns"] >= before["resolution"]["customer_turns"] + 1
    assert after["feedback"]["down"] >= before["feedback"]["down"] + 1
    assert any(r["route"] == turn["route"] and r["turns"] >= 1 for r in after["latency"])
    assert sum(d["turns"] for d in after["per_day"]) == after["resolution"]["customer_turns"]
    assert len(after["top_intents"]) <= 5
    assert httpx.get(f"{live.url}/v1/admin/analytics", headers=admin, params={"days": -1}).status_code == 422
