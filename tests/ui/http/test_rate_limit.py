"""Token buckets per client IP and per key: a flood gets 429 with Retry-After, then service resumes."""

from __future__ import annotations

import time

import httpx

from ui.http.ratelimit import RateLimiter

ORIGIN = "https://shop.example.com"


def test_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("a") == 0 for _ in range(60))
    assert limiter.take("a") > 0 and limiter.take("b") == 0
    now[0] += 1.0
    assert limiter.take("a") == 0 and limiter.take("a") > 0


def _flood(client: httpx.Client, n: int, **kwargs) -> list[httpx.Response]:
    return [client.get("/v1/models", **kwargs) for _ in range(n)]


def test_ip_flood_gets_429_then_recovers(make_live) -> None:
    live = make_live(rate_limit_per_minute=20)
    with httpx.Client(base_url=live.url, timeout=30) as client:
        codes = [r.status_code for r in _flood(client, 30)]
        assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
        limited = client.post("/v1/chat", json={"message": "How long do refunds take?"})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        wait = int(limited.headers["retry-after"])
        assert 1 <= wait <= 3
        time.sleep(wait + 0.2)
        ok = client.post("/v1/chat", json={"message": "How long do refunds take?"})
        assert ok.status_code == 200, ok.text


def test_key_bucket_is_separate_from_the_ip_bucket(make_live) -> None:
    live = make_live(rate_limit_per_minute=10_000, rate_limit_key_per_minute=5)
    keyed = {"Authorization": f"Bearer {live.widget_key}", "Origin": ORIGIN}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        codes = [r.status_code for r in _flood(client, 8, headers=keyed)]
        assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
        limited = _flood(client, 1, headers=keyed)[0]
        assert limited.headers["access-control-allow-origin"] == ORIGIN  # the widget can read the refusal
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/v1/models").status_code == 200  # anonymous traffic from the same IP is fine
