"""Outbound webhooks reach a real HTTP receiver, signed, retried after a 500, without slowing a turn."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from pydantic import SecretStr

from assistant.webhooks import WebhookSender, verify_signature

SECRET = "whsec-test-secret"


class Receiver:
    """Records every POST; answers 500 to the first `fail_first` of them."""

    def __init__(self, fail_first: int = 0, delay_s: float = 0.0) -> None:
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self.fail_first, self.delay_s = fail_first, delay_s
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay_s)
                status = 500 if len(receiver.requests) < receiver.fail_first else 200
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, kind: str) -> list[tuple[dict[str, str], dict, int]]:
        return [(h, json.loads(b), s) for h, b, s in self.requests if json.loads(b)["type"] == kind]

    def wait_for(self, predicate, timeout_s: float = 20.0) -> None:
        deadline = time.time() + timeout_s
        while not predicate():
            if time.time() > deadline:
                raise AssertionError(f"webhook not received in time; got {len(self.requests)} requests")
            time.sleep(0.05)


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=1)
    yield r
    r.server.shutdown()


def test_feedback_webhook_is_signed_and_retried_after_a_500(make_live, receiver: Receiver) -> None:
    live = make_live(webhook_url=receiver.url, webhook_secret=SecretStr(SECRET))
    reply = httpx.post(
        f"{live.url}/v1/chat", json={"message": "How long do refunds take?"}, timeout=60
    ).json()
    r = httpx.post(f"{live.url}/v1/feedback", json={"message_id": reply["message_id"], "rating": "up"})
    assert r.status_code == 200
    receiver.wait_for(lambda: any(s == 200 for _, _, s in receiver.events("feedback")))
    deliveries = receiver.events("feedback")
    assert [s for _, _, s in deliveries] == [500, 200]
    (h1, e1, _), (h2, e2, _) = deliveries
    assert e1 == e2 and h1["x-lepton-delivery"] == h2["x-lepton-delivery"] == e1["id"]
    assert set(e1) >= {"type", "created_at", "data"} and e1["data"]["message_id"] == reply["message_id"]
    assert e1["data"]["rating"] == "up"
    for headers, body, _ in receiver.requests:
        assert verify_signature(body, SECRET, headers["x-lepton-signature"])
        assert not verify_signature(body, "wrong secret", headers["x-lepton-signature"])
        assert headers["x-lepton-signature"].startswith("sha256=")
    assert SECRET not in str(live.assistant.settings.model_dump())


def test_handoff_webhook_after_repeated_fallbacks(make_live) -> None:
    receiver = Receiver()
    try:
        live = make_live(webhook_url=receiver.url, webhook_secret=SecretStr(SECRET))
        session = None
        for question in (
            "What's the weather in Paris tomorrow?",
            "Who won the football last night?",
            "Tell me a story about dragons",
        ):
            body = httpx.post(
                f"{live.url}/v1/chat", json={"message": question, "session_id": session}, timeout=60
            ).json()
            session = body["session_id"]
        assert body["route"] == "handoff"
        receiver.wait_for(lambda: receiver.events("handoff"))
        ((headers, event, _),) = receiver.events("handoff")
        assert event["data"]["session_id"] == session
        assert verify_signature(
            json.dumps(event, separators=(",", ":")).encode(), SECRET, headers["x-lepton-signature"]
        )
    finally:
        receiver.server.shutdown()


def test_a_slow_receiver_never_slows_the_caller() -> None:
    receiver = Receiver(delay_s=1.0)
    try:
        sender = WebhookSender(receiver.url, None, backoff_s=0.05)
        started = time.perf_counter()
        for i in range(5):
            sender("feedback", {"message_id": str(i)})
        sender("some_other_event", {})
        assert time.perf_counter() - started < 0.2
        assert sender.flush(30)
        assert [json.loads(b)["data"]["message_id"] for _, b, _ in receiver.requests] == [
            "0",
            "1",
            "2",
            "3",
            "4",
        ]
        assert "x-lepton-signature" not in receiver.requests[0][0]
        sender.close()
    finally:
        receiver.server.shutdown()


def test_gives_up_after_the_tries() -> None:
    receiver = Receiver(fail_first=100)
    try:
        sender = WebhookSender(receiver.url, None, tries=3, backoff_s=0.01)
        sender("handoff", {"session_id": "s"})
        assert sender.flush(10)
        assert len(receiver.requests) == 3 and sender.failed == 1 and sender.delivered == 0
    finally:
        receiver.server.shutdown()
