"""Outbound webhooks: assistant events POSTed as signed JSON from a background thread, with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from assistant.config import Settings

log = logging.getLogger("lepton.webhooks")

EVENTS = frozenset({"handoff", "feedback", "review_item"})
SIGNATURE_HEADER = "X-Lepton-Signature"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: `sha256=<hex HMAC-SHA256 of the raw body>`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, header: str | None) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)


class DeliveryFailed(Exception):
    """The receiver answered with a status worth retrying (5xx, 408, 429)."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryFailed | httpx.TransportError)


class WebhookSender:
    """A listener (`assistant.listeners`) that queues events and delivers them one by one in order.

    Calling it never blocks: a full queue drops the event with a warning. Each delivery is tried `tries`
    times with exponential backoff (`backoff_s`, 2x, 4x, ...); 4xx answers other than 408/429 are final.
    """

    def __init__(
        self,
        url: str,
        secret: SecretStr | str | None = None,
        *,
        events: frozenset[str] = EVENTS,
        tries: int = 5,
        backoff_s: float = 1.0,
        timeout_s: float = 10.0,
        max_queue: int = 1000,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("webhook_url must be an http(s) URL")
        self.url, self.events = url, events
        self.secret = SecretStr(secret) if isinstance(secret, str) else secret
        self.tries, self.backoff_s, self.timeout_s = tries, backoff_s, timeout_s
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __call__(self, kind: str, payload: dict[str, Any]) -> None:
        if kind not in self.events:
            return
        event = {
            "id": uuid.uuid4().hex,
            "type": kind,
            "created_at": datetime.now(UTC).isoformat(),
            "data": payload,
        }
        body = json.dumps(event, ensure_ascii=False, default=str, separators=(",", ":")).encode("utf-8")
        self._ensure_thread()
        try:
            self._queue.put_nowait(body)
        except queue.Full:
            log.warning("webhook queue full; %s event dropped", kind)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s, headers={"User-Agent": "Lepton-Webhooks/0.1"}) as client:
            while True:
                body = self._queue.get()
                try:
                    if body is None:
                        return
                    self._deliver(client, body)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, body: bytes) -> None:
        event = json.loads(body)
        headers = {
            "Content-Type": "application/json",
            "X-Lepton-Event": event["type"],
            "X-Lepton-Delivery": event["id"],
        }
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = sign(body, self.secret.get_secret_value())
        try:
            self._post(client, body, headers, event["type"])
        except Exception:  # a bad URL or a bug must not stop the deliveries behind it
            log.exception("webhook %s not delivered", event["type"])
            self.failed += 1

    def _post(self, client: httpx.Client, body: bytes, headers: dict[str, str], kind: str) -> None:
        retrying = Retrying(
            stop=stop_after_attempt(self.tries),
            wait=wait_exponential(multiplier=self.backoff_s, max=60),
            retry=retry_if_exception(_retryable),
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = client.post(self.url, content=body, headers=headers)
                    if response.status_code >= 500 or response.status_code in (408, 429):
                        raise DeliveryFailed(f"HTTP {response.status_code}")
            if response.is_success:
                self.delivered += 1
                return
            log.warning("webhook %s refused with HTTP %s; not retried", kind, response.status_code)
        except RetryError as exc:
            log.warning(
                "webhook %s not delivered after %d tries: %s", kind, self.tries, exc.last_attempt.exception()
            )
        self.failed += 1

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every queued event was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (up to `timeout_s`) and stop the thread."""
        if self._thread is not None and self._thread.is_alive():
            self.flush(timeout_s)
            self._queue.put(None)
            self._thread.join(timeout_s)


def install_webhooks(assistant: Any, settings: Settings) -> WebhookSender | None:
    """Register one sender for `settings.webhook_url` on `assistant.listeners` (idempotent)."""
    if not settings.webhook_url:
        return None
    for listener in assistant.listeners:
        if isinstance(listener, WebhookSender) and listener.url == settings.webhook_url:
            return listener
    sender = WebhookSender(settings.webhook_url, settings.webhook_secret)
    assistant.listeners.append(sender)
    return sender
