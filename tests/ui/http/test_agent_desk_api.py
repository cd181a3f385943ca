"""The agent's desk over REST: a waiting customer is told once, the waiting list shows who has each session and
for how long, assigning, the customer's context, canned replies, and a closing message the customer sees."""

from __future__ import annotations

import httpx

from assistant import messages
from assistant.config import BrandSettings


def _admin(live) -> dict[str, str]:
    return {"Authorization": f"Bearer {live.admin_key}"}


def _chat(client: httpx.Client, message: str, session_id: str | None = None) -> dict:
    r = client.post("/v1/chat", json={"message": message, "session_id": session_id})
    assert r.status_code == 200, r.text
    return r.json()


def _handed_off(client: httpx.Client) -> str:
    first = _chat(client, "I want to talk to a real person please")
    assert first["route"] == "handoff", first
    return first["session_id"]


def test_a_waiting_customer_is_told_once_and_later_messages_reach_the_agent(live) -> None:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        sid = _handed_off(client)
        told = _chat(client, "hello? my order is late", sid)
        assert told["route"] == "handoff" and told["reply"] == messages.text("handoff_waiting", "en")
        for text in ("anyone there?", "still waiting"):
            quiet = _chat(client, text, sid)
            assert quiet["route"] == "handoff" and quiet["reply"] == "" and quiet["message_id"], quiet
        # Streamed too: no token, a final with an empty reply.
        with client.stream(
            "POST", "/v1/chat", json={"message": "hello??", "session_id": sid, "stream": True}
        ) as r:
            body = r.read().decode()
        assert "event: token" not in body and '"reply": ""' in body
        # The agent sees every message.
        ctx = client.get(f"/v1/admin/sessions/{sid}/context", headers=_admin(live)).json()
        assert [t["message"] for t in ctx["turns"]][-3:] == ["anyone there?", "still waiting", "hello??"]

        # Closed and handed off again: told again, once.
        assert client.post(f"/v1/admin/sessions/{sid}/close", headers=_admin(live)).status_code == 200
        assert _chat(client, "I want to talk to a real person please", sid)["route"] == "handoff"
        assert _chat(client, "hi?", sid)["reply"] == messages.text("handoff_waiting", "en")
        assert _chat(client, "hi??", sid)["reply"] == ""


def test_the_waiting_list_shows_who_has_each_session_and_how_long_it_waits(live) -> None:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        sid = _handed_off(client)
        listed = client.get("/v1/admin/handoffs", headers=_admin(live)).json()["sessions"]
        mine = next(s for s in listed if s["id"] == sid)
        assert mine["agent"] is None and 0 <= mine["waiting_s"] < 60 and "user_ref" not in mine

        r = client.post(f"/v1/admin/sessions/{sid}/assign", json={"agent": "dana"}, headers=_admin(live))
        assert r.status_code == 200 and r.json()["agent"] == "dana", r.text
        listed = client.get("/v1/admin/handoffs", headers=_admin(live)).json()["sessions"]
        assert next(s for s in listed if s["id"] == sid)["agent"] == "dana"
        # Left out: the caller, by its admin key's name.
        r = client.post(f"/v1/admin/sessions/{sid}/assign", json={}, headers=_admin(live))
        assert r.json()["agent"] == "test admin"

        for body in ({"agent": ""}, {"agent": "x" * 81}, {"agent": "dana", "extra": 1}):
            r = client.post(f"/v1/admin/sessions/{sid}/assign", json=body, headers=_admin(live))
            assert r.status_code == 422 and set(r.json()) == {"error"}, r.text
        r = client.post("/v1/admin/sessions/nope/assign", json={"agent": "dana"}, headers=_admin(live))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        # Only a waiting session is assigned.
        open_one = _chat(client, "How long does standard shipping take?")
        r = client.post(
            f"/v1/admin/sessions/{open_one['session_id']}/assign",
            json={"agent": "dana"},
            headers=_admin(live),
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_an_agent_who_replies_has_the_session_and_closing_tells_the_customer(live) -> None:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        sid = _handed_off(client)
        r = client.post(
            f"/v1/admin/sessions/{sid}/reply",
            json={"text": "Hi, Sam here.", "agent": "sam"},
            headers=_admin(live),
        )
        assert r.status_code == 200
        assert client.get(f"/v1/admin/sessions/{sid}/context", headers=_admin(live)).json()["agent"] == "sam"

        closed = client.post(f"/v1/admin/sessions/{sid}/close", headers=_admin(live))
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        seen = client.get(f"/v1/sessions/{sid}").json()
        assert seen["status"] == "closed"
        texts = [(m["agent"], m["text"]) for m in seen["messages"]]
        assert texts == [("sam", "Hi, Sam here."), ("sam", messages.text("handoff_closed", "en"))]
        assert client.post("/v1/admin/sessions/nope/close", headers=_admin(live)).status_code == 404


def test_a_chinese_customer_is_closed_in_chinese(live) -> None:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        first = _chat(client, "我要人工客服")
        assert first["route"] == "handoff", first
        sid = first["session_id"]
        client.post(f"/v1/admin/sessions/{sid}/close", headers=_admin(live))
        seen = client.get(f"/v1/sessions/{sid}").json()
        assert seen["messages"][-1]["text"] == messages.text("handoff_closed", "zh")


def test_context_and_canned_replies(live) -> None:
    store = live.assistant.store
    with httpx.Client(base_url=live.url, timeout=60) as client:
        # An earlier session of the same end user (OpenAI `user`), then today's, handed off.
        earlier = store.session_for_user("digest-of-cust-42")
        store.log_turn(earlier, {"message": "where is my parcel", "reply": "…", "route": "rag"})
        sid = _handed_off(client)
        today = store.session(sid)
        today.user_ref = "digest-of-cust-42"
        today.slots = {"order_id": "KH-20481937"}
        store.save_session(today)
        ctx = client.get(f"/v1/admin/sessions/{sid}/context", headers=_admin(live)).json()
        assert ctx["language"] == "en" and ctx["status"] == "handoff"
        assert ctx["mentioned"] == {"order_id": ["KH-20481937"]}
        assert [e["id"] for e in ctx["earlier_sessions"]] == [earlier.id]
        assert ctx["earlier_sessions"][0]["first_message"] == "where is my parcel"
        assert "trace" not in ctx["turns"][0]
        r = client.get(f"/v1/admin/sessions/{sid}/canned", headers=_admin(live))
        assert r.status_code == 200 and isinstance(r.json()["replies"], list)
        assert client.get("/v1/admin/sessions/nope/context", headers=_admin(live)).status_code == 404


def test_an_agent_message_carries_the_agents_picture_from_the_brand(make_live) -> None:
    """`[brand] agent_avatars` gives an agent's picture (any case); an agent without one gets None (the widget
    draws their initial)."""
    shop = make_live(brand=BrandSettings(agent_avatars={"Dana": "https://cdn.shop.example/dana.png"}))
    with httpx.Client(base_url=shop.url, timeout=60) as client:
        sid = _handed_off(client)
        for agent, text in (("dana", "Hi, Dana here."), ("sam", "Sam too.")):
            r = client.post(
                f"/v1/admin/sessions/{sid}/reply", json={"text": text, "agent": agent}, headers=_admin(shop)
            )
            assert r.status_code == 200, r.text
        seen = client.get(f"/v1/sessions/{sid}").json()["messages"]
    assert [(m["agent"], m["avatar"]) for m in seen] == [
        ("dana", "https://cdn.shop.example/dana.png"),
        ("sam", None),
    ]
