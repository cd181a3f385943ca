"""The admin console over HTTP (issue #17, findings 4 and 9): a revoked admin key ends the console sessions it
opened, the console never speaks CORS to a widget or foreign origin, and it refuses to be framed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.conftest import FOREIGN, ORIGIN, Keys, Proc

pytestmark = pytest.mark.slow

LOCAL = "http://localhost:5173"  # Gradio's own CORS trusts localhost origins
# Gradio trusts every origin when the server's host is not localhost (a real deployment).
PUBLIC_HOST = "lepton.example.com"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials")


@contextmanager
def console_client(proc: Proc, key: str) -> Iterator[httpx.Client]:
    """A client logged in to the console with `key` (the session lives in Gradio's cookie)."""
    with httpx.Client(base_url=proc.url, timeout=60) as client:
        r = client.post("/admin/login", data={"username": "alice", "password": key})
        assert r.status_code == 200, r.text
        yield client


def join(client: httpx.Client) -> httpx.Response:
    """One queue call, as the console page makes when it loads (fn 0 is the header)."""
    body = {"data": [], "event_data": None, "fn_index": 0, "trigger_id": None, "session_hash": "sec-h2"}
    return client.post("/admin/gradio_api/queue/join", json=body)


def key_id(proc: Proc, key: str) -> str:
    from assistant.keys import KeyStore

    info = KeyStore(proc.home / "keys.db").verify(key)
    assert info is not None
    return info.id


def test_revoked_admin_key_ends_its_open_console_sessions(sec_server: Proc) -> None:
    from assistant.keys import KeyStore

    store = KeyStore(sec_server.home / "keys.db")
    doomed, other = store.create("admin", name="doomed"), store.create("admin", name="other")
    with console_client(sec_server, doomed) as a, console_client(sec_server, other) as b:
        file_url = "/admin/gradio_api/file=does-not-exist.txt"
        assert a.get("/admin/config").status_code == 200
        assert join(a).status_code == 200
        assert a.get(file_url).status_code != 401
        assert b.get("/admin/config").status_code == 200

        assert store.revoke(key_id(sec_server, doomed))
        for r in (
            a.get("/admin/config"),
            join(a),
            a.get(file_url),
            a.post("/admin/gradio_api/upload", files={"files": ("x.txt", b"x")}),
            a.get("/admin/gradio_api/info"),
        ):
            assert r.status_code == 401, (r.request.url, r.status_code, r.text[:200])
        # Still refused later (the session is gone, not merely skipped once).
        assert a.get("/admin/config").status_code == 401
        # The revoked key cannot open a new session; another live key's session is untouched.
        assert httpx.post(
            f"{sec_server.url}/admin/login", data={"username": "alice", "password": doomed}
        ).status_code in (400, 401)
        assert b.get("/admin/config").status_code == 200
        assert join(b).status_code == 200
    # A fresh key opens a working session, and logging out still ends it.
    with console_client(sec_server, store.create("admin", name="fresh")) as c:
        assert c.get("/admin/config").status_code == 200
        assert c.get("/admin/logout").status_code in (200, 302)
        assert c.get("/admin/config").status_code == 401


@pytest.mark.parametrize("origin", [ORIGIN, FOREIGN, LOCAL])
@pytest.mark.parametrize("host", [None, PUBLIC_HOST])
def test_console_never_answers_cors(sec_server: Proc, sec_keys: Keys, origin: str, host: str | None) -> None:
    extra = {"Host": host} if host else {}
    with console_client(sec_server, sec_keys.admin) as client:
        preflight = client.options(
            "/admin/gradio_api/queue/join",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
                **extra,
            },
        )
        assert preflight.status_code == 403, preflight.text
        assert preflight.json()["error"]["code"] == "forbidden_origin"
        responses = [
            preflight,
            client.get("/admin/", headers={"Origin": origin, **extra}),
            client.get("/admin/config", headers={"Origin": origin, **extra}),
            client.post("/admin/gradio_api/queue/join", headers={"Origin": origin, **extra}, json={}),
            httpx.get(f"{sec_server.url}/admin/login_check", headers={"Origin": origin, **extra}),
        ]
        for r in responses:
            leaked = {h: r.headers[h] for h in CORS_HEADERS if h in r.headers}
            assert not leaked, (r.request.method, r.request.url, leaked)


def test_cors_is_only_on_the_customer_api(sec_server: Proc, sec_keys: Keys) -> None:
    ask = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    ok = httpx.options(f"{sec_server.url}/v1/chat", headers=ask)
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == ORIGIN
    r = httpx.get(f"{sec_server.url}/v1/models", headers={"Origin": ORIGIN})
    assert r.headers.get("access-control-allow-origin") == ORIGIN
    # The widget reads whether its server is still starting (issue #20); only from a widget key's origin.
    r = httpx.get(f"{sec_server.url}/healthz", headers={"Origin": ORIGIN})
    assert r.headers.get("access-control-allow-origin") == ORIGIN
    r = httpx.get(f"{sec_server.url}/healthz", headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in r.headers
    for path in ("/docs", "/openapi.json", "/widget.js"):
        r = httpx.get(f"{sec_server.url}{path}", headers={"Origin": ORIGIN})
        assert "access-control-allow-origin" not in r.headers, path


def test_console_and_docs_refuse_to_be_framed(sec_server: Proc, sec_keys: Keys) -> None:
    with console_client(sec_server, sec_keys.admin) as client:
        responses = [
            client.get("/admin/"),
            client.get("/admin", follow_redirects=False),
            client.get("/admin/config"),
            client.get("/admin/gradio_api/info"),
            httpx.get(f"{sec_server.url}/admin/config"),  # 401
            httpx.get(f"{sec_server.url}/docs"),
        ]
    for r in responses:
        assert r.headers.get("x-frame-options") == "DENY", (r.request.url, dict(r.headers))
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), r.request.url


@pytest.mark.parametrize("host", [None, PUBLIC_HOST])
def test_nothing_but_the_customer_api_answers_cors(sec_server: Proc, host: str | None) -> None:
    """The public chat page's Gradio routes too: Gradio's own CORS answered any origin with credentials on a
    public host name."""
    extra = {"Host": host} if host else {}
    with httpx.Client(base_url=sec_server.url, timeout=60) as client:
        for origin in (FOREIGN, ORIGIN, LOCAL):
            preflight = client.options(
                "/gradio_api/queue/join",
                headers={"Origin": origin, "Access-Control-Request-Method": "POST", **extra},
            )
            assert preflight.status_code == 403 and preflight.json()["error"]["code"] == "forbidden_origin"
            for r in (
                preflight,
                client.get("/", headers={"Origin": origin, **extra}),
                client.get("/config", headers={"Origin": origin, **extra}),
                client.get("/gradio_api/info", headers={"Origin": origin, **extra}),
            ):
                leaked = {h: r.headers[h] for h in CORS_HEADERS if h in r.headers}
                assert not leaked, (r.request.method, r.request.url, leaked)


def test_console_refuses_requests_sent_by_another_site(sec_server: Proc, sec_keys: Keys) -> None:
    """`<img src=/admin/logout>` on any page logged the admin out (a GET, with the console's cookie)."""
    image = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    with console_client(sec_server, sec_keys.admin) as client:
        for headers in (image, link, {**image, "Sec-Fetch-Site": "same-site"}):
            r = client.get("/admin/logout", headers=headers)
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_origin", r.text
        assert client.get("/admin/config").status_code == 200  # still signed in
        form = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
        assert (
            client.post("/admin/login", data={"username": "x", "password": "y"}, headers=form).status_code
            == 403
        )
        assert join(client).status_code == 200
        # A link to the console from elsewhere still opens it; the console's own requests still work.
        assert client.get("/admin/", headers=link).status_code == 200
        same = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
        assert client.get("/admin/config", headers=same).status_code == 200
        assert client.get("/admin/logout", headers={"Sec-Fetch-Site": "same-origin"}).status_code in (
            200,
            302,
        )
        assert client.get("/admin/config").status_code == 401
