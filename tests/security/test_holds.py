"""Security checks against the real `lepton serve` process (Gradio mounted at /), extending
tests/ui/http/ (which drives the API-only app): admin path tricks, foreign origins on every customer
route, and a concurrent flood on the per-key rate limit."""

from __future__ import annotations

import re
import threading

import httpx
import pytest

pytestmark = pytest.mark.slow

ORIGIN = "https://shop.example.com"
FOREIGN = "https://evil.example.net"
ADMIN_DATA = re.compile(r'"(turns|routes|sessions|versions|items|handoff_sessions)"')


def test_admin_routes_refuse_without_a_key_on_the_real_server(sec_server, sec_keys) -> None:
    schema = httpx.get(f"{sec_server.url}/openapi.json", timeout=30).json()
    ops = [
        (m.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, methods in schema["paths"].items()
        if path.startswith("/v1/admin/")
        for m in methods
        if m in ("get", "post", "put", "patch", "delete")
    ]
    assert len(ops) >= 8
    tricks = [
        "//v1/admin/stats",
        "/v1//admin/stats",
        "/V1/admin/stats",
        "/v1/Admin/stats",
        "/v1/admin%2Fstats",
        "/v1/%61dmin/stats",
        "/v1/admin/stats/",
        "/v1/admin/stats;x",
        "/v1/admin;/stats",
        "/v1/admin/stats%00",
        "/v1/admin/stats?admin=1",
        "/v1/admin/sessions/x/../../stats",
    ]
    with httpx.Client(base_url=sec_server.url, timeout=30) as client:
        for method, path in ops:
            for headers in (
                {},
                {"Authorization": f"Bearer {sec_keys.widget}", "Origin": ORIGIN},
                {"Authorization": f"Basic {sec_keys.admin}"},
                {"X-Api-Key": sec_keys.admin},
            ):
                r = client.request(method, path, headers=headers, json={})
                assert r.status_code in (401, 403), (
                    method,
                    path,
                    headers.keys(),
                    r.status_code,
                    r.text[:200],
                )
                assert r.json()["error"]["code"] in ("unauthorized", "forbidden")
        for path in tricks:
            for method in ("GET", "HEAD", "OPTIONS", "POST"):
                r = client.request(method, path)
                assert r.status_code in (401, 403, 404, 405), (method, path, r.status_code)
                assert not ADMIN_DATA.search(r.text), (method, path, r.text[:200])
        # The key itself works (the refusals above are about the key, not a broken route).
        ok = client.get("/v1/admin/stats", headers={"Authorization": f"Bearer {sec_keys.admin}"})
        assert ok.status_code == 200 and "routes" in ok.json()


def test_widget_key_from_a_foreign_origin_is_refused_on_every_customer_route(sec_server, sec_keys) -> None:
    with httpx.Client(base_url=sec_server.url, timeout=60) as client:
        mid = client.post("/v1/chat", json={"message": "Do gift cards expire?"}).json()["message_id"]
        calls = [
            ("POST", "/v1/chat", {"message": "Do gift cards expire?"}),
            ("POST", "/v1/chat", {"message": "Do gift cards expire?", "stream": True}),
            (
                "POST",
                "/v1/chat/completions",
                {"messages": [{"role": "user", "content": "Do gift cards expire?"}]},
            ),
            ("POST", "/v1/feedback", {"message_id": mid, "rating": "down"}),
        ]
        for origin in (FOREIGN, None, "null", "https://shop.example.com.evil.net", "http://shop.example.com"):
            headers = {"Authorization": f"Bearer {sec_keys.widget}"}
            if origin:
                headers["Origin"] = origin
            for method, path, body in calls:
                r = client.request(method, path, json=body, headers=headers)
                assert r.status_code == 403, (origin, path, r.status_code, r.text[:200])
                assert r.json()["error"]["code"] == "forbidden_origin"
                assert "access-control-allow-origin" not in r.headers
        good = client.post(
            "/v1/chat",
            json=calls[0][2],
            headers={"Authorization": f"Bearer {sec_keys.widget}", "Origin": ORIGIN},
        )
        assert good.status_code in (200, 429)  # 429 only when the flood test below ran first


def test_concurrent_flood_on_a_widget_key_is_rate_limited(sec_server) -> None:
    from assistant.keys import KeyStore

    key = KeyStore(sec_server.home / "keys.db").create("widget", [ORIGIN], name="flood")
    headers = {"Authorization": f"Bearer {key}", "Origin": ORIGIN}
    codes: list[int] = []
    retry_after: list[str] = []
    lock = threading.Lock()

    def flood() -> None:
        with httpx.Client(base_url=sec_server.url, timeout=60) as client:
            for _ in range(6):
                r = client.post("/v1/chat", json={"message": "Do gift cards expire?"}, headers=headers)
                with lock:
                    codes.append(r.status_code)
                    if r.status_code == 429:
                        retry_after.append(r.headers.get("retry-after", ""))
                        assert r.json()["error"]["code"] == "rate_limited"
                        assert r.headers.get("access-control-allow-origin") == ORIGIN

    threads = [threading.Thread(target=flood) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(codes) == 96 and set(codes) <= {200, 429}, sorted(set(codes))
    allowed = codes.count(200)
    assert 30 <= allowed <= 34, allowed  # the bucket holds 30 (LEPTON_RATE_LIMIT_KEY_PER_MINUTE) plus refill
    assert retry_after and all(v.isdigit() and int(v) >= 1 for v in retry_after)
    # Everyone else is still served: anonymous customers (own per-IP bucket) and the health check.
    r = httpx.post(f"{sec_server.url}/v1/chat", json={"message": "Do gift cards expire?"}, timeout=60)
    assert r.status_code == 200
    assert sec_server.healthy()
