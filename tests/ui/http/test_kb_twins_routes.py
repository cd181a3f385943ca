"""The knowledge-base admin API keeps languages in step: an item's twins and "needs update" marks, confirming
one still right, and versions listed with date, author and summary."""

from __future__ import annotations

import httpx

from tests.ui.http.test_kb_routes import _assert_error

ACTOR = "admin:test admin"
BEACON_EN = "---\ntitle: Beacons\nlanguage: en\n---\n\nThe beacon lamp runs for 12 hours on one charge.\n"
BEACON_ZH = "---\ntitle: 信标灯\nlanguage: zh\n---\n\n信标灯充一次电可以使用 12 小时。\n"


def _template(client: httpx.Client, template_id: str) -> dict:
    r = client.get(f"/templates/{template_id}")
    assert r.status_code == 200, (r.url, r.text)
    return r.json()


def test_twins_marks_and_confirm_over_http(live) -> None:
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    with httpx.Client(base_url=f"{live.url}/v1/admin/kb", headers=headers, timeout=120) as client:
        start = next(v["version"] for v in client.get("/versions").json()["versions"] if v["live"])
        try:
            r = client.post(
                "/upload",
                files=[
                    ("files", ("beacon-en.md", BEACON_EN.encode(), "text/markdown")),
                    ("files", ("beacon-zh.md", BEACON_ZH.encode(), "text/markdown")),
                ],
            )
            assert r.status_code == 200 and r.json()["added"] == 2, r.text
            for lang, answer in (("en", "A beacon runs for 12 hours."), ("zh", "信标灯可以使用 12 小时。")):
                body = {"intent": "beacon_runtime", "language": lang, "title": "Beacon", "answer": answer}
                assert client.put(f"/templates/beacon-{lang}", json=body).status_code == 200
            en = _template(client, "beacon-en")
            assert en["needs_update"] is None and en["language"] == "en"
            assert [(t["id"], t["language"], t["needs_update"]) for t in en["twins"]] == [
                ("beacon-zh", "zh", None)
            ]
            assert client.get("/documents").json()["needs_update"] == []  # new templates are no edit
            _assert_error(client.get("/templates/nope"), 404, "not_found")
            _assert_error(httpx.post(f"{live.url}/v1/admin/kb/templates/beacon-zh/confirm"), 401)

            body = {
                **{k: en[k] for k in ("intent", "language", "title")},
                "answer": "A beacon runs 20 hours.",
            }
            assert client.put("/templates/beacon-en", json=body).status_code == 200
            zh = _template(client, "beacon-zh")
            mark = zh["needs_update"]
            assert mark["source"] == "beacon-en" and mark["source_language"] == "en"
            assert mark["by"] == ACTOR and mark["changed"] == ["answer"] and "20" in mark["diff"], mark
            assert zh["twins"][0]["id"] == "beacon-en" and zh["twins"][0]["needs_update"] is None
            listed = client.get("/templates", params={"draft": "true"}).json()["templates"]
            assert {t["id"] for t in listed if t["needs_update"]} == {"beacon-zh"}
            overview = client.get("/documents").json()
            assert [(m["kind"], m["id"]) for m in overview["needs_update"]] == [("template", "beacon-zh")]

            r = client.post("/templates/beacon-zh/confirm")
            assert r.status_code == 200 and r.json()["needs_update"] is None, r.text
            assert client.get("/documents").json()["needs_update"] == []
            _assert_error(client.post("/templates/nope/confirm"), 404, "not_found")

            # A document's twin: the same file name with the other language's suffix.
            docs = overview["documents"]
            beacon_en = next(d for d in docs if d["uri"].endswith("beacon-en.md"))
            beacon_zh = next(d for d in docs if d["uri"].endswith("beacon-zh.md"))
            doc = client.get(f"/documents/{beacon_en['id']}").json()
            assert [t["id"] for t in doc["twins"]] == [beacon_zh["id"]] and doc["needs_update"] is None
            r = client.put(
                f"/documents/{beacon_en['id']}", json={"text": doc["text"] + "\n\nIt floats, too.\n"}
            )
            assert r.status_code == 200, r.text
            mark = client.get(f"/documents/{beacon_zh['id']}").json()["needs_update"]
            assert mark["source"] == beacon_en["id"] and mark["by"] == ACTOR and "floats" in mark["diff"]
            flagged = [d["id"] for d in client.get("/documents").json()["documents"] if d["needs_update"]]
            assert flagged == [beacon_zh["id"]]
            r = client.post(f"/documents/{beacon_zh['id']}/confirm")
            assert r.status_code == 200 and r.json()["needs_update"] is None
            _assert_error(client.post("/documents/nope/confirm"), 404, "not_found")

            entries = client.get("/audit", params={"limit": 10}).json()["entries"]
            confirms = [e["target"] for e in entries if e["action"] == "confirm_twin" and e["actor"] == ACTOR]
            assert confirms == [beacon_zh["id"], "beacon-zh"]

            # The version list: date, who published it and what it changed.
            v = client.post("/publish", json={}).json()
            assert v["summary"] == v["changes"] == "1 document changed; 2 templates added"
            top = client.get("/versions").json()["versions"][0]
            assert top["version"] == v["version"] and top["live"] and top["actor"] == ACTOR
            assert top["published_at"].endswith("+00:00") and top["summary"] == v["summary"]
            r = client.put(f"/documents/{beacon_en['id']}", json={"text": doc["text"] + "\n\nThat is all.\n"})
            assert r.status_code == 200
            assert client.get(f"/documents/{beacon_zh['id']}").json()["needs_update"] is not None
            v = client.post("/publish", json={"note": "one more line"}).json()
            assert v["summary"] == "one more line" and v["changes"] == "1 document changed"
            assert all(x["summary"] for x in client.get("/versions").json()["versions"])
        finally:
            client.post("/rollback", json={"version": start})  # leave the shared KB as we found it
        assert client.get("/documents").json()["needs_update"] == []
