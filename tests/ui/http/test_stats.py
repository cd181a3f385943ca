"""`/v1/admin/stats` counts every turn exactly once, whichever surface answered it."""

from __future__ import annotations

import httpx
from openai import OpenAI


def test_stats_count_every_turn_once(make_live) -> None:
    live = make_live()
    admin = {"Authorization": f"Bearer {live.admin_key}"}

    def stats() -> dict:
        r = httpx.get(f"{live.url}/v1/admin/stats", headers=admin)
        assert r.status_code == 200, r.text
        return r.json()

    before = stats()
    assert {"turns", "sessions", "routes"} <= set(before)
    first = httpx.post(
        f"{live.url}/v1/chat", json={"message": "How long do refunds take?"}, timeout=60
    ).json()
    sid = first["session_id"]
    with httpx.stream(
        "POST",
        f"{live.url}/v1/chat",
        json={"message": "Express shipping?", "session_id": sid, "stream": True},
        timeout=60,
    ) as r:
        assert r.status_code == 200 and "final" in r.read().decode()
    client = OpenAI(base_url=f"{live.url}/v1", api_key="x", max_retries=0)
    same = {"X-Lepton-Session": sid}  # (`user` names an end user, not a session)
    client.chat.completions.create(
        model="lepton", messages=[{"role": "user", "content": "refunds?"}], extra_headers=same
    )
    list(
        client.chat.completions.create(
            model="lepton",
            stream=True,
            extra_headers=same,
            messages=[{"role": "user", "content": "shipping?"}],
        )
    )
    client.chat.completions.create(
        model="lepton", messages=[{"role": "user", "content": "What's the weather?"}]
    )
    # Refused requests are not turns.
    assert httpx.post(f"{live.url}/v1/chat", json={"message": ""}).status_code == 422
    assert httpx.post(f"{live.url}/v1/chat/completions", json={"messages": []}).status_code == 422

    after = stats()
    assert after["turns"] - before["turns"] == 5
    assert after["sessions"] - before["sessions"] == 2
    assert sum(after["routes"].values()) == after["turns"]
    delta = {k: after["routes"].get(k, 0) - before["routes"].get(k, 0) for k in after["routes"]}
    assert delta.get("rag", 0) + delta.get("fallback", 0) + delta.get("handoff", 0) == 5
    session = httpx.get(f"{live.url}/v1/admin/sessions/{sid}", headers=admin).json()
    assert len(session["turns"]) == 4
