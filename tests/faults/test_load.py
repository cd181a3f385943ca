"""Load: 50 concurrent sessions of 20 turns each against a real server; every turn answered and logged once."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytestmark = pytest.mark.slow

SESSIONS, TURNS = 50, 20


def _session(url: str, index: int, messages: list[str]) -> tuple[str | None, list[str], list[str]]:
    """(session id, message ids, problems) of one customer sending TURNS messages one after another."""
    session, ids, problems = None, [], []
    with httpx.Client(base_url=url, timeout=180) as client:
        for turn in range(TURNS):
            message = messages[(index + turn) % len(messages)]
            try:
                r = client.post("/v1/chat", json={"message": message, "session_id": session})
            except httpx.HTTPError as exc:
                problems.append(f"session {index} turn {turn}: {type(exc).__name__}: {exc}")
                continue
            if r.status_code != 200:
                problems.append(f"session {index} turn {turn}: {r.status_code} {r.text[:200]}")
                continue
            body = r.json()
            if session is not None and body["session_id"] != session:
                problems.append(f"session {index} turn {turn}: session changed to {body['session_id']}")
            session = body["session_id"]
            ids.append(body["message_id"])
    return session, ids, problems


def test_50_sessions_of_20_turns_are_all_answered_and_logged_once(fault_server, template_messages) -> None:
    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(lambda i: _session(fault_server.url, i, template_messages), range(SESSIONS)))
    problems = [p for _, _, ps in results for p in ps]
    assert not problems, problems[:10]
    ids = [i for _, turn_ids, _ in results for i in turn_ids]
    assert len(ids) == SESSIONS * TURNS and len(set(ids)) == len(ids), "message ids are not unique"
    sessions = [s for s, _, _ in results]
    assert len(set(sessions)) == SESSIONS

    con = sqlite3.connect(fault_server.home / "conversations.db")
    try:
        for session, turn_ids, _ in results:
            rows = con.execute(
                "select id, route, reply from turns where session_id = ?", [session]
            ).fetchall()
            assert len(rows) == TURNS, (session, len(rows))
            assert sorted(r[0] for r in rows) == sorted(turn_ids)
            assert all(r[1] and r[2] for r in rows)
        marks = ",".join("?" * len(sessions))
        total, distinct = con.execute(
            f"select count(*), count(distinct id) from turns where session_id in ({marks})", sessions
        ).fetchone()
        assert total == distinct == SESSIONS * TURNS
    finally:
        con.close()
    assert fault_server.healthy()
