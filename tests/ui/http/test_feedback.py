"""`POST /v1/feedback`: one row per reply, later ratings replace earlier ones, unknown ids are 404."""

from __future__ import annotations

import sqlite3

import httpx


def _rows(live, message_id: str) -> list[tuple]:
    with sqlite3.connect(live.assistant.settings.logs_path) as conn:
        return conn.execute(
            "select rating, comment from feedback where message_id = ?", [message_id]
        ).fetchall()


def test_feedback_is_stored_replaced_and_announced(make_live) -> None:
    live = make_live()
    events: list[tuple[str, dict]] = []
    live.assistant.listeners.append(lambda kind, payload: events.append((kind, payload)))
    reply = httpx.post(
        f"{live.url}/v1/chat", json={"message": "How long do refunds take?"}, timeout=60
    ).json()
    mid = reply["message_id"]

    r = httpx.post(
        f"{live.url}/v1/feedback", json={"message_id": mid, "rating": "up", "comment": "clear, thanks"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["rating"] == "up" and r.json()["session_id"] == reply["session_id"]
    assert _rows(live, mid) == [("up", "clear, thanks")]

    r = httpx.post(f"{live.url}/v1/feedback", json={"message_id": mid, "rating": "down"})
    assert r.status_code == 200
    assert _rows(live, mid) == [("down", None)]

    feedback = [p for k, p in events if k == "feedback"]
    assert [p["rating"] for p in feedback] == ["up", "down"] and feedback[0]["message_id"] == mid
    stats = httpx.get(
        f"{live.url}/v1/admin/stats", headers={"Authorization": f"Bearer {live.admin_key}"}
    ).json()
    assert stats["feedback"]["down"] >= 1


def test_unknown_message_is_404(live) -> None:
    r = httpx.post(f"{live.url}/v1/feedback", json={"message_id": "no-such-turn", "rating": "up"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_bad_feedback_is_422(live) -> None:
    for body in (
        {"message_id": "x", "rating": "meh"},
        {"message_id": "x", "rating": "up", "comment": "y" * 2001},
        {"rating": "up"},
        {"message_id": "", "rating": "up"},
    ):
        r = httpx.post(f"{live.url}/v1/feedback", json=body)
        assert r.status_code == 422 and set(r.json()["error"]) == {"code", "message"}
