"""Fixing an answer over HTTP against a real server: a question the knowledge base cannot answer is queued, the
right answer written for it is a draft until published, then it answers the next customer; bad requests
are 4xx with the one error shape."""

from __future__ import annotations

import uuid

import httpx

from tests.ui.http.test_admin_routes import _assert_error


def test_a_written_answer_is_a_draft_then_answers_the_next_customer(live) -> None:
    tag = uuid.uuid4().hex[:6]
    admin = httpx.Client(
        base_url=f"{live.url}/v1", headers={"Authorization": f"Bearer {live.admin_key}"}, timeout=120
    )
    start = next(v["version"] for v in admin.get("/admin/kb/versions").json()["versions"] if v["live"])

    def chat(message: str) -> dict:
        r = httpx.post(f"{live.url}/v1/chat", json={"message": message}, timeout=120)
        assert r.status_code == 200, r.text
        return r.json()

    question = f"Can you gift wrap my order for a birthday {tag}?"
    asked = chat(question)
    assert asked["route"] == "fallback", asked
    items = admin.get("/admin/review", params={"limit": 1000}).json()["items"]
    (item,) = [i for i in items if i["turn_id"] == asked["message_id"]]

    def fix(item_id: int, **body: object) -> httpx.Response:
        return admin.post(f"/admin/review/{item_id}/fix", json=body)

    try:
        # Bad requests: each a 4xx with the error shape, and the item still pending.
        _assert_error(fix(item["id"], outcome="rewrite"), 422)
        _assert_error(fix(item["id"], outcome="write", intent="gift_wrap"), 422)  # no answer
        _assert_error(fix(item["id"], outcome="write", answer="Yes.", intent="gift_wrap", colour="red"), 422)
        _assert_error(fix(item["id"], outcome="write", answer="x" * 4001, intent="x", new_intent=True), 422)
        _assert_error(
            fix(item["id"], outcome="write", answer="Yes.", intent="gift_wrap", same_text="yes"), 422
        )
        unknown = fix(item["id"], outcome="write", answer="Yes, we can.", intent="gift_wrap")
        _assert_error(unknown, 422)
        assert "new_intent" in unknown.json()["error"]["message"]
        chinese = fix(item["id"], outcome="write", answer="可以包装。", intent="gift_wrap", new_intent=True)
        _assert_error(chinese, 422)
        assert "no Chinese content" in chinese.json()["error"]["message"]
        _assert_error(fix(item["id"], outcome="fine"), 422)  # no intent model here: nothing was guessed
        _assert_error(fix(10**9, outcome="fine"), 404)
        assert admin.get("/admin/review", params={"limit": 1000}).json()["counts"]["pending"] >= 1

        answer = f"Yes: gift wrapping costs 4 euros per order; choose it at checkout (GW-{tag})."
        r = fix(item["id"], outcome="write", answer=answer, intent="gift_wrap", new_intent=True)
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["item"]["status"] == "corrected" and done["item"]["label"] == "gift_wrap"
        assert done["item"]["reviewer"] == "test admin"
        assert done["kind"] == "template" and done["language"] == "en"
        assert done["drafts"] == [{"id": "tpl-gift-wrap-en", "language": "en", "state": "written"}]
        assert "publish it in the Knowledge base tab" in done["said"]

        # A draft: listed as one, not yet what customers get.
        drafted = admin.get("/admin/kb/templates", params={"draft": "true"}).json()["templates"]
        assert any(t["id"] == "tpl-gift-wrap-en" and t["answer"] == answer for t in drafted)
        assert f"GW-{tag}" not in chat(question)["reply"]

        assert admin.post("/admin/kb/publish", json={"note": "gift wrap"}).status_code == 200
        for message in (question, f"do you offer gift wrapping {tag}"):
            after = chat(message)
            assert f"GW-{tag}" in after["reply"], (message, after)
            assert after["sources"][0]["id"] == "tpl-gift-wrap-en"

        # The intent is known now: another customer's question can use that answer in one call.
        queue = live.assistant.review
        queue.add(f"fix-use-{tag}", f"wrapping paper for a wedding present {tag}", "unanswered")
        second = next(i["id"] for i in queue.items() if i["turn_id"] == f"fix-use-{tag}")
        _assert_error(fix(second, outcome="use", intent="gift_wrapping"), 422)  # "did you mean gift_wrap"
        used = fix(second, outcome="use", intent="tpl-gift-wrap-en").json()  # a template: its intent
        assert used["item"]["status"] == "corrected" and used["item"]["label"] == "gift_wrap"
        assert "uses the answer of gift_wrap" in used["said"]
    finally:
        admin.post("/admin/kb/rollback", json={"version": start})  # leave the shared server as we found it
        admin.close()
