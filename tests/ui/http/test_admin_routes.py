"""The admin API refuses everyone without an admin key, on every route the schema lists."""

from __future__ import annotations

import re

import httpx
import pytest

from assistant.keys import KeyStore


def _admin_operations(url: str) -> list[tuple[str, str]]:
    schema = httpx.get(f"{url}/openapi.json").json()
    ops = []
    for path, methods in schema["paths"].items():
        if path.startswith("/v1/admin/"):
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            ops += [(m.upper(), concrete) for m in methods if m in ("get", "post", "put", "patch", "delete")]
    return ops


def _assert_error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, (r.request.method, r.request.url, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}


def test_every_admin_route_needs_an_admin_key(live) -> None:
    ops = _admin_operations(live.url)
    assert {("GET", "/v1/admin/stats"), ("GET", "/v1/admin/sessions/x"), ("GET", "/v1/admin/turns/x")} <= set(
        ops
    )
    wrong = {
        "not a key": "lk_admin_" + "A" * 32,
        "widget key": live.widget_key,
        "other scheme": None,
    }
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for method, path in ops:
            r = client.request(method, path, json={})
            _assert_error(r, 401)
            assert r.headers.get("www-authenticate") == "Bearer"
            for what, key in wrong.items():
                headers = (
                    {"Authorization": f"Bearer {key}"}
                    if key
                    else {"Authorization": f"Basic {live.admin_key}"}
                )
                r = client.request(method, path, json={}, headers=headers)
                # Only a live key of another kind is authenticated but not allowed (403); the rest are not
                # authenticated (401, with the scheme to use).
                _assert_error(r, 403 if what == "widget key" else 401)
                if r.status_code == 401:
                    assert r.headers.get("www-authenticate") == "Bearer"
            ok = client.request(method, path, json={}, headers={"Authorization": f"Bearer {live.admin_key}"})
            assert ok.status_code not in (401, 403), (method, path)
        # Paths no route claims are refused the same way: nothing leaks which admin routes exist.
        _assert_error(client.get("/v1/admin/no-such-thing"), 401)
        _assert_error(client.get("/v1/admin"), 401)


def test_revoked_admin_key_is_refused(live) -> None:
    store = KeyStore(live.assistant.settings.home / "keys.db")
    key = store.create("admin")
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{live.url}/v1/admin/stats", headers=headers).status_code == 200
    store.revoke(store.verify(key).id)
    refused = httpx.get(f"{live.url}/v1/admin/stats", headers=headers)
    _assert_error(refused, 401)  # a revoked key authenticates no one: 401, as for an unknown key
    assert (
        refused.json()["error"]["code"] == "unauthorized"
        and refused.headers.get("www-authenticate") == "Bearer"
    )


def test_admin_reads_a_turn_with_its_trace_and_its_session(live) -> None:
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    reply = httpx.post(
        f"{live.url}/v1/chat", json={"message": "How long do refunds take?"}, timeout=60
    ).json()
    turn = httpx.get(f"{live.url}/v1/admin/turns/{reply['message_id']}", headers=headers).json()
    assert turn["id"] == reply["message_id"] and turn["route"] == reply["route"] == "rag"
    assert turn["trace"]["stages_ms"]["total"] > 0 and turn["trace"]["retrieved"]
    session = httpx.get(f"{live.url}/v1/admin/sessions/{reply['session_id']}", headers=headers).json()
    assert session["session"]["id"] == reply["session_id"]
    assert [t["id"] for t in session["turns"]] == [reply["message_id"]] and "trace" in session["turns"][0]
    _assert_error(httpx.get(f"{live.url}/v1/admin/turns/nope", headers=headers), 404)
    _assert_error(httpx.get(f"{live.url}/v1/admin/sessions/nope", headers=headers), 404)


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/healthz"])
def test_public_pages_stay_public(live, path: str) -> None:
    assert httpx.get(f"{live.url}{path}").status_code == 200


def test_review_labels_must_name_a_known_intent_unless_declared_new(live) -> None:
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    queue = live.assistant.review
    ids = []
    for n, text in enumerate(["has my refund gone through", "refund still missing", "is the refund done"]):
        queue.add(f"label-test-{n}", text, "thumbs_down", predicted="out_of_scope")
        ids.append(next(i["id"] for i in queue.items() if i["turn_id"] == f"label-test-{n}"))

    def label(item: int, **body: object) -> httpx.Response:
        return httpx.post(f"{live.url}/v1/admin/review/{item}", headers=headers, json=body, timeout=60)

    # This assistant has no intent model, training data or templates: refund_status is unknown until declared.
    r = label(ids[0], intent="refund_status")
    _assert_error(r, 422)
    assert r.json()["error"]["code"] == "unknown_intent" and "new_intent" in r.json()["error"]["message"]
    assert queue.get(ids[0])["status"] == "pending"
    for bad in ["", "  ", "refund status", "x" * 121]:
        _assert_error(label(ids[0], intent=bad, new_intent=True), 422)
    assert label(ids[0], intent=" refund_status ", new_intent=True).json()["label"] == "refund_status"
    # Now a reviewed label: known, and the near miss is pointed at it.
    assert label(ids[1], intent="refund_status").json()["status"] == "corrected"
    typo = label(ids[2], intent="refund_statsu")
    _assert_error(typo, 422)
    assert "Did you mean refund_status?" in typo.json()["error"]["message"]
    assert label(ids[2], intent="out_of_scope").json()["status"] == "confirmed"
    _assert_error(label(10**9, intent="refund_status"), 404)
    assert queue.training_examples()[1].count("refund_status") == 2


def test_review_same_text_answers_every_pending_copy(live) -> None:
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    queue = live.assistant.review
    for n in range(3):
        queue.add(f"gnome-{n}", "Do you sell garden gnomes?", "unanswered", predicted="out_of_scope")
    ids = sorted(i["id"] for i in queue.items() if i["turn_id"].startswith("gnome-"))
    listed = httpx.get(f"{live.url}/v1/admin/review", headers=headers, timeout=60).json()["items"]
    assert {i["copies"] for i in listed if i["id"] in ids} == {3}
    r = httpx.post(
        f"{live.url}/v1/admin/review/{ids[0]}",
        headers=headers,
        json={"intent": "out_of_scope", "same_text": True},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["also_resolved"] == 2
    assert {queue.get(i)["status"] for i in ids} == {"confirmed"}
    _assert_error(
        httpx.post(f"{live.url}/v1/admin/review/{ids[0]}", headers=headers, json={"same_text": "yes"}), 422
    )


def test_review_items_show_the_reply_and_why_in_plain_words(live) -> None:
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    question = "Do you sell garden gnomes in teal?"
    turns = [
        httpx.post(f"{live.url}/v1/chat", json={"message": question}, timeout=120).json() for _ in range(2)
    ]
    for turn in turns:  # whatever queued them already, both customers rated the reply down
        live.assistant.review.add(turn["message_id"], question, "thumbs_down")
    ids = {t["message_id"] for t in turns}

    def listed(**params: object) -> list[dict]:
        r = httpx.get(f"{live.url}/v1/admin/review", headers=headers, params=params, timeout=60)
        assert r.status_code == 200, r.text
        return [i for i in r.json()["items"] if i["turn_id"] in ids]

    every = listed()
    assert len(every) == 2
    for item in every:
        said = next(t for t in turns if t["message_id"] == item["turn_id"])
        assert item["reply"] == said["reply"] and item["route"] == said["route"]
        assert [s["id"] for s in item["sources"]] == [s["id"] for s in said["sources"]]
        assert "the customer rated it down" in item["why"] and "thumbs_down" in item["reasons"]
    (one,) = listed(grouped="true")  # the same question asked twice: one item with its count
    assert one["copies"] == 2 and one["turn_id"] == turns[-1]["message_id"]
    assert one["reply"] == turns[-1]["reply"]


def test_generator_adapters_are_listed_promoted_and_rolled_back(live, tmp_path) -> None:
    from training.generator_lora import generator_registry

    registry = generator_registry(live.assistant.settings.home)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "adapter_config.json").write_text("{}")
        registry.register(tmp_path / name, metrics={"heldout_loss": 1.0}, data_fingerprint=name, config={})
    auth = {"Authorization": f"Bearer {live.admin_key}"}
    with httpx.Client(base_url=live.url, timeout=30, headers=auth) as client:
        listed = client.get("/v1/admin/generator").json()
        assert listed["current"] is None and [v["version"] for v in listed["versions"]] == ["v0001", "v0002"]
        assert listed["serving"] is None  # this server has no local generator
        assert client.post("/v1/admin/generator/v0001/promote").json()["current"] == "v0001"
        assert client.post("/v1/admin/generator/v0002/promote").json()["current"] == "v0002"
        assert client.post("/v1/admin/generator/rollback").json()["current"] == "v0001"
        _assert_error(client.post("/v1/admin/generator/rollback"), 409)
        _assert_error(client.post("/v1/admin/generator/v0009/promote"), 404)
        _assert_error(client.post("/v1/admin/generator/..%2Fv0001/promote"), 404)
        assert client.get("/v1/admin/generator").json()["current"] == "v0001"
