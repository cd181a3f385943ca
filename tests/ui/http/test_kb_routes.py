"""The knowledge-base admin API over HTTP: upload, draft edits, publish, rollback, audit, refusals."""

from __future__ import annotations

import httpx
import pytest

LAMPS = b"# Lighthouse lamps\n\nThe KH-LAMP lighthouse lamp ships with a universal power adapter and a 2-year warranty.\n"


def _assert_error(r: httpx.Response, status: int, code: str | None = None) -> None:
    assert r.status_code == status, (r.request.method, r.request.url, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code


def _uris(client: httpx.Client, q: str) -> list[str]:
    r = client.get("/v1/admin/kb/search", params={"q": q, "k": 3})
    assert r.status_code == 200, r.text
    return [h["uri"] for h in r.json()["hits"]]


def test_kb_curation_over_http(live, monkeypatch: pytest.MonkeyPatch) -> None:
    headers = {"Authorization": f"Bearer {live.admin_key}"}
    with httpx.Client(base_url=live.url, headers=headers, timeout=120) as client:
        _assert_error(httpx.get(f"{live.url}/v1/admin/kb/documents"), 401)
        start = next(
            v["version"] for v in client.get("/v1/admin/kb/versions").json()["versions"] if v["live"]
        )
        try:
            r = client.post(
                "/v1/admin/kb/upload",
                files=[("files", ("lamps.md", LAMPS, "text/markdown"))],
                data={"publish": "false"},
            )
            assert r.status_code == 200, r.text
            assert r.json()["added"] == 1 and r.json()["version"] is None and r.json()["errors"] == []
            assert not any(u.endswith("lamps.md") for u in _uris(client, "lighthouse lamp power adapter"))
            assert [c["change"] for c in client.get("/v1/admin/kb/changes").json()["changes"]] == ["added"]

            v = client.post("/v1/admin/kb/publish", json={"note": "lamps"}).json()
            assert v["version"] > start and v["live"] and v["note"] == "lamps"
            _assert_error(client.post("/v1/admin/kb/publish", json={}), 409, "nothing_to_publish")
            assert _uris(client, "lighthouse lamp power adapter")[0].endswith("lamps.md")

            docs = client.get("/v1/admin/kb/documents").json()["documents"]
            lamp = next(d for d in docs if d["uri"].endswith("lamps.md"))
            assert (
                "universal power adapter" in client.get(f"/v1/admin/kb/documents/{lamp['id']}").json()["text"]
            )
            _assert_error(client.get("/v1/admin/kb/documents/nope"), 404, "not_found")
            r = client.put(
                f"/v1/admin/kb/documents/{lamp['id']}",
                json={"text": "# Lighthouse lamps\n\nThe lighthouse lamp now runs on solar power only.\n"},
            )
            assert r.status_code == 200 and "solar" in r.json()["text"], r.text
            hits = client.get("/v1/admin/kb/search", params={"q": "solar powered lighthouse lamp"}).json()[
                "hits"
            ]
            assert not any("solar" in h["snippet"] for h in hits)  # still a draft
            client.put(
                "/v1/admin/kb/templates/gift-cards-en",
                json={
                    "intent": "gift_cards",
                    "language": "en",
                    "title": "Gift cards",
                    "answer": "Gift cards never expire.",
                },
            )
            _assert_error(client.put("/v1/admin/kb/templates/x", json={"intent": "i"}), 422)
            edited = client.post("/v1/admin/kb/publish", json={"note": "solar"}).json()["version"]
            hits = client.get("/v1/admin/kb/search", params={"q": "solar powered lighthouse lamp"}).json()[
                "hits"
            ]
            assert "solar" in hits[0]["snippet"]
            assert "gift-cards-en" in [
                t["id"] for t in client.get("/v1/admin/kb/templates").json()["templates"]
            ]
            assert live.assistant.kb.get_template("gift-cards-en").answer == "Gift cards never expire."

            assert client.delete(f"/v1/admin/kb/documents/{lamp['id']}").json()["deleted"] == "document"
            _assert_error(client.delete("/v1/admin/kb/documents/nope"), 404)
            client.post("/v1/admin/kb/publish", json={})
            assert not any(u.endswith("lamps.md") for u in _uris(client, "solar powered lighthouse lamp"))

            r = client.post("/v1/admin/kb/rollback", json={"version": edited})
            assert r.status_code == 200 and r.json()["version"] == edited
            assert _uris(client, "solar powered lighthouse lamp")[0].endswith("lamps.md")
            _assert_error(client.post("/v1/admin/kb/rollback", json={"version": 9999}), 404)

            entries = client.get("/v1/admin/kb/audit", params={"limit": 50}).json()["entries"]
            mine = {e["action"] for e in entries if e["actor"] == "admin:test admin"}
            assert {"ingest", "publish", "edit", "upsert_template", "delete", "rollback"} <= mine

            for bad in ("../evil.md", "a/b.md", "..\\evil.md", ".hidden.md", ""):
                r = client.post(
                    "/v1/admin/kb/upload", files=[("files", (bad, b"# x\n\ntext\n", "text/markdown"))]
                )
                assert r.status_code in (400, 422), (bad, r.text)
            _assert_error(
                client.post("/v1/admin/kb/upload", files=[("files", ("tool.exe", b"MZ", "application/x"))]),
                415,
                "unsupported_type",
            )
            import ui.http.kb_routes as kb_admin

            monkeypatch.setattr(kb_admin, "MAX_BYTES", 1000)  # the server runs in this process
            _assert_error(
                client.post(
                    "/v1/admin/kb/upload", files=[("files", ("big.md", b"x" * 1001, "text/markdown"))]
                ),
                413,
                "file_too_large",
            )
            assert not (live.assistant.kb.path / "evil.md").exists()
        finally:
            client.post(
                "/v1/admin/kb/rollback", json={"version": start}
            )  # leave the shared KB as we found it
