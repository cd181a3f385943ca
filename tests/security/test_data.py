"""Issue #17, findings 3 and 9 (parts), against real `lepton serve` processes: personal data is stored and shown
redacted, the home is private, YAML aliases are refused, knowledge-base uploads have their own body limit,
X-Forwarded-For is honoured only from configured proxies, and session reads are rate limited."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import FOREIGN, ORIGIN, TEMPLATE_MESSAGES, Keys, Proc
from tests.security.conftest import make_keys

pytestmark = pytest.mark.slow

CARD, EMAIL, PHONE = "4111 1111 1111 1111", "jane.doe@example.com", "+1 415 555 2671"
RAW = f"My card {CARD} was declined, email me at {EMAIL} or call {PHONE}"
# Every way the values could be written down.
SECRETS = [EMAIL, CARD, CARD.replace(" ", ""), "415 555 2671", "4155552671"]
# Nested aliases: 9**6 strings once expanded (a few MB from a few hundred bytes).
BOMB = (
    "---\ntitle: Bomb\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
    + "".join(f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcde", "bcdef", strict=True))
    + "tags: *f\n---\n# Bomb\n\nNothing here.\n"
)


@pytest.fixture(scope="module")
def proxied(launch: Callable[..., Proc]) -> Proc:
    """Behind a proxy on 127.0.0.1 that it trusts, ten chats a minute per client: each test sends its own
    X-Forwarded-For address, so it has buckets of its own."""
    return launch(
        {"LEPTON_RATE_LIMIT_PER_MINUTE": "10", "LEPTON_TRUSTED_PROXIES": '["127.0.0.1"]'}, name="data"
    )


@pytest.fixture(scope="module")
def proxied_keys(proxied: Proc) -> Keys:
    return make_keys(proxied)


@pytest.fixture(scope="module")
def direct(launch: Callable[..., Proc]) -> Proc:
    """No trusted proxy (the default), ten chats a minute per client."""
    return launch({"LEPTON_RATE_LIMIT_PER_MINUTE": "10"}, name="direct")


def _client(proc: Proc, address: str) -> httpx.Client:
    return httpx.Client(base_url=proc.url, timeout=120, headers={"X-Forwarded-For": address})


def _admin(keys: Keys) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys.admin}"}


def _stored_bytes(home: Path) -> bytes:
    """The conversation and review databases as they are on disk, write-ahead logs included."""
    return b"".join(p.read_bytes() for name in ("conversations.db*", "review.db*") for p in home.glob(name))


def test_personal_data_is_stored_and_shown_redacted(proxied: Proc, proxied_keys: Keys) -> None:
    with _client(proxied, "198.51.100.1") as client:
        first = client.post("/v1/chat", json={"message": RAW}).json()
        assert first["route"] in ("rag", "template"), first  # an answered question becomes the topic
        sid = first["session_id"]
        second = client.post("/v1/chat", json={"message": "and how long does that take?", "session_id": sid})
        assert second.status_code == 200, second.text
        session = client.get(f"/v1/admin/sessions/{sid}", headers=_admin(proxied_keys))
        assert session.status_code == 200, session.text
        body = session.json()
        turns = [
            client.get(f"/v1/admin/turns/{t['id']}", headers=_admin(proxied_keys)) for t in body["turns"]
        ]
        history = client.get(f"/v1/sessions/{sid}")
    assert len(body["turns"]) == 2 and all(t.status_code == 200 for t in turns)
    topic = body["session"]["topic"]
    assert topic.startswith("My card [CARD] was declined") and "[EMAIL]" in topic and "[PHONE]" in topic
    rewritten = body["turns"][1]["trace"]["rewritten"]
    assert "[CARD]" in rewritten and rewritten.endswith("and how long does that take?")
    shown = session.text + "".join(t.text for t in turns) + history.text
    stored = _stored_bytes(proxied.home)
    for value in SECRETS:
        assert value not in shown, value
        assert value.encode() not in stored, value


def test_a_front_matter_alias_bomb_is_refused_and_named(proxied: Proc, proxied_keys: Keys) -> None:
    fine = "---\ntitle: Loyalty points\n---\n# Loyalty points\n\nPoints expire after one year.\n"
    files = [("files", ("bomb.md", BOMB.encode())), ("files", ("loyalty.md", fine.encode()))]
    r = httpx.post(
        f"{proxied.url}/v1/admin/kb/upload",
        files=files,
        data={"publish": "false"},
        headers=_admin(proxied_keys),
        timeout=300,
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["added"] == 1
    assert [e["file"] for e in report["errors"]] == ["bomb.md"]
    assert "anchors and aliases" in report["errors"][0]["error"]
    docs = httpx.get(f"{proxied.url}/v1/admin/kb/documents", headers=_admin(proxied_keys), timeout=60).json()
    uris = [d["uri"] for d in docs["documents"]]
    assert any(u.endswith("loyalty.md") for u in uris) and not any(u.endswith("bomb.md") for u in uris)
    assert proxied.healthy()


def _article(n_bytes: int, topic: str) -> str:
    """A long, varied Markdown article of about `n_bytes`."""
    lines = [f"# {topic.title()}\n"]
    i = 0
    while sum(len(x) + 1 for x in lines) < n_bytes:
        i += 1
        lines.append(f"Rule {i}: a {topic} request number {i} is handled within {i % 9 + 1} business days.")
    return "\n".join(lines) + "\n"


def test_knowledge_base_uploads_and_edits_over_64_kb_are_accepted(proxied: Proc, proxied_keys: Keys) -> None:
    admin = _admin(proxied_keys)
    with httpx.Client(base_url=proxied.url, timeout=300, headers=admin) as client:
        big = _article(200_000, "warranty claim").encode()
        r = client.post(
            "/v1/admin/kb/upload", files=[("files", ("claims.md", big))], data={"publish": "false"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["errors"] == [] and r.json()["added"] == 1
        doc = next(
            d
            for d in client.get("/v1/admin/kb/documents").json()["documents"]
            if d["uri"].endswith("claims.md")
        )
        edit = client.put(f"/v1/admin/kb/documents/{doc['id']}", json={"text": _article(100_000, "repair")})
        assert edit.status_code == 200, edit.text
        huge = client.post(
            "/v1/admin/kb/upload", files=[("files", ("huge.md", b"# Huge\n\n" + b"x" * 21_000_000))]
        )
        huge_edit = client.put(f"/v1/admin/kb/documents/{doc['id']}", json={"text": "x" * 22_000_000})
    # The file's own cap (20 MiB) or the body cap answers, both before anything is ingested.
    assert huge.status_code == 413 and huge.json()["error"]["code"] in ("file_too_large", "payload_too_large")
    assert huge_edit.status_code == 413 and huge_edit.json()["error"]["code"] == "payload_too_large"


def test_customer_bodies_stay_limited_to_64_kb(proxied: Proc) -> None:
    """Declared (Content-Length) or streamed in chunks: the same 413, not the 400 of a body parse error."""

    def chunks() -> Iterator[bytes]:
        yield b'{"message": "'
        for _ in range(10):
            yield b"x" * 10_000
        yield b'"}'

    with _client(proxied, "198.51.100.3") as client:
        declared = client.post("/v1/chat", json={"message": "x" * 100_000})
        streamed = client.post("/v1/chat", content=chunks(), headers={"Content-Type": "application/json"})
    for r in (declared, streamed):
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large", r.text


def test_the_home_and_everything_in_it_are_private(proxied: Proc, proxied_keys: Keys) -> None:
    """After chats, feedback and an upload (files made while serving, not only at start)."""
    with _client(proxied, "198.51.100.4") as client:
        reply = client.post("/v1/chat", json={"message": TEMPLATE_MESSAGES[0]}).json()
        client.post("/v1/feedback", json={"message_id": reply["message_id"], "rating": "down"})
        up = client.post(
            "/v1/admin/kb/upload",
            files=[("files", ("hours.md", b"# Hours\n\nWe answer from 9 to 5.\n"))],
            headers=_admin(proxied_keys),
        )
        assert up.status_code == 200, up.text
    home = proxied.home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    paths = [p for p in home.rglob("*") if not p.is_symlink()]
    assert any(p.name == "conversations.db" for p in paths) and any(p.name == "hours.md" for p in paths)
    loose = {
        str(p.relative_to(home)): oct(stat.S_IMODE(p.stat().st_mode))
        for p in paths
        if p.stat().st_mode & 0o077
    }
    assert loose == {}


def test_session_reads_follow_the_widget_key_origin_rule(proxied: Proc, proxied_keys: Keys) -> None:
    key = {"Authorization": f"Bearer {proxied_keys.widget}"}
    with _client(proxied, "198.51.100.5") as client:
        foreign = client.get("/v1/sessions/nosuchsession", headers={**key, "Origin": FOREIGN})
        own = client.get("/v1/sessions/nosuchsession", headers={**key, "Origin": ORIGIN})
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden_origin"
    assert own.status_code == 404


def test_a_session_read_flood_is_rate_limited_but_polling_is_not(direct: Proc) -> None:
    """Ten chats a minute per address: the widget's polling (every 4 s, 15 a minute) fits the read bucket,
    a flood does not."""
    with httpx.Client(base_url=direct.url, timeout=60) as client:
        statuses = [client.get("/v1/sessions/nosuchsession") for _ in range(80)]
    assert all(r.status_code == 404 for r in statuses[:15])
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert limited[0].json()["error"]["code"] == "rate_limited" and limited[0].headers["Retry-After"]


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(direct: Proc) -> None:
    with httpx.Client(base_url=direct.url, timeout=60) as client:
        codes = [
            client.post(
                "/v1/chat",
                json={"message": TEMPLATE_MESSAGES[i % len(TEMPLATE_MESSAGES)]},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(1, 16)
        ]
    assert set(codes) <= {200, 429} and 429 in codes, codes  # every "client" shares the peer's bucket


def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(proxied: Proc) -> None:
    def chats(address: str, n: int) -> list[int]:
        with _client(proxied, address) as client:
            return [
                client.post(
                    "/v1/chat", json={"message": TEMPLATE_MESSAGES[i % len(TEMPLATE_MESSAGES)]}
                ).status_code
                for i in range(n)
            ]

    first = chats("192.0.2.10", 13)
    assert first[0] == 200 and 429 in first, first
    assert chats("192.0.2.11", 1) == [200]  # another client behind the proxy: a bucket of its own
