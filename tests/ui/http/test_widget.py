"""Widget keys are bound to their origins; CORS only ever names an origin of a widget key."""

from __future__ import annotations

import httpx

ORIGIN = "https://shop.example.com"  # the origin the fixtures' widget key is bound to
FOREIGN = "https://evil.example.net"
ASK = {"message": "How much is express shipping?"}


def _bearer(key: str, origin: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if origin:
        headers["Origin"] = origin
    return headers


def test_widget_key_from_its_origin_gets_cors_headers(live) -> None:
    r = httpx.post(f"{live.url}/v1/chat", json=ASK, headers=_bearer(live.widget_key, ORIGIN), timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "Origin" in r.headers["vary"]
    assert r.json()["route"] == "rag"


def test_widget_key_from_a_foreign_origin_is_refused_without_cors(live) -> None:
    for headers in (_bearer(live.widget_key, FOREIGN), _bearer(live.widget_key)):
        r = httpx.post(f"{live.url}/v1/chat", json=ASK, headers=headers, timeout=60)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_origin"
        assert "access-control-allow-origin" not in r.headers
        assert "Origin" in r.headers["vary"]
    r = httpx.post(
        f"{live.url}/v1/chat/completions",
        headers=_bearer(live.widget_key, FOREIGN),
        json={"model": "lepton", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert r.status_code == 403 and "access-control-allow-origin" not in r.headers


def test_preflight_only_for_widget_origins(live) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    ok = httpx.options(f"{live.url}/v1/chat", headers={"Origin": ORIGIN, **ask})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    sdk = httpx.options(
        f"{live.url}/v1/chat/completions",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os, x-lepton-session",
        },
    )
    assert sdk.status_code == 204 and "x-stainless-os" in sdk.headers["access-control-allow-headers"]
    put = httpx.options(
        f"{live.url}/v1/chat", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}
    )
    assert put.status_code == 403 and "access-control-allow-origin" not in put.headers
    assert "POST" in ok.headers["access-control-allow-methods"] and "Origin" in ok.headers["vary"]
    bad = httpx.options(f"{live.url}/v1/chat", headers={"Origin": FOREIGN, **ask})
    assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers
    assert bad.json()["error"]["code"] == "forbidden_origin"
    # Never a wildcard, and never on the admin API, even for a widget origin.
    admin = httpx.options(f"{live.url}/v1/admin/stats", headers={"Origin": ORIGIN, **ask})
    assert "access-control-allow-origin" not in admin.headers
    plain = httpx.get(f"{live.url}/healthz", headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in plain.headers


def test_anonymous_chat_without_an_origin_still_works_when_keys_are_optional(live) -> None:
    r = httpx.post(f"{live.url}/v1/chat", json=ASK, timeout=60)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    # An unknown bearer token is ignored while keys are optional (OpenAI SDKs always send one).
    r = httpx.post(f"{live.url}/v1/chat", json=ASK, headers=_bearer("sk-anything"), timeout=60)
    assert r.status_code == 200


def test_required_widget_key(make_live) -> None:
    strict = make_live(require_widget_key=True)
    for headers in ({}, {"Origin": ORIGIN}, _bearer("lk_widget_nope", ORIGIN)):
        r = httpx.post(f"{strict.url}/v1/chat", json=ASK, headers=headers, timeout=60)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert r.headers.get("www-authenticate") == "Bearer"
    r = httpx.post(f"{strict.url}/v1/chat", json=ASK, headers=_bearer(strict.widget_key, ORIGIN), timeout=60)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ORIGIN
    r = httpx.post(f"{strict.url}/v1/chat", json=ASK, headers=_bearer(strict.widget_key, FOREIGN), timeout=60)
    assert r.status_code == 403
    r = httpx.post(f"{strict.url}/v1/feedback", json={"message_id": "x", "rating": "up"})
    assert r.status_code == 401
