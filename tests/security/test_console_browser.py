"""Customer text in the admin console is plain text (issue #17, finding 7), in a real browser (Debian's
Chromium driven by Playwright) against `lepton serve`: a message full of Markdown and HTML reaches the review
queue, the trace and the agent view, and opening it there loads nothing, links nothing, logs nobody out."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.conftest import Proc, free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TIMEOUT_MS = 60_000
PANELS = ("#rv-item", "#rv-table", "#tc-summary", "#tc-turns", "#ag-status", "#ag-chat", "#ag-list")


class Tracker:
    """A tiny local HTTP server standing in for the attacker's: it records every request it gets."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    t = Tracker()
    yield t
    t.close()


def chat(url: str, message: str, session_id: str | None = None) -> dict:
    r = httpx.post(f"{url}/v1/chat", json={"message": message, "session_id": session_id}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def wait_text(page, selector: str, text: str) -> None:
    """Wait until `selector`'s visible text contains `text` literally."""
    page.wait_for_function(
        "([s, t]) => document.querySelector(s) && document.querySelector(s).innerText.includes(t)",
        arg=[selector, text],
        timeout=TIMEOUT_MS,
    )


def test_customer_markdown_and_html_show_as_plain_text(sec_server: Proc, browser, tracker: Tracker) -> None:
    from assistant.keys import KeyStore

    # Letters only, and `localhost`: the conversation log redacts digit runs and IP addresses.
    tag = "".join(random.choices(string.ascii_lowercase, k=10))
    base = f"http://localhost:{tracker.port}"
    image, link = f"![x]({base}/pixel)", f"[click]({base}/link)"
    evil = (
        f"order {tag} {image} {link} **bold** <img src={base}/raw> ![y](/admin/logout) "
        "$$x^2$$ www.example.org"
    )
    # It lands in the review queue (unanswered, and a thumbs down), the trace and a handed-off session.
    turn = chat(sec_server.url, evil)
    assert httpx.post(
        f"{sec_server.url}/v1/feedback", json={"message_id": turn["message_id"], "rating": "down"}
    ).status_code in (200, 204)
    handoff = chat(sec_server.url, "I want to talk to a real person please")
    assert handoff["route"] == "handoff", handoff
    chat(sec_server.url, evil, handoff["session_id"])

    key = KeyStore(sec_server.home / "keys.db").create("admin", name="browser")
    page = browser.new_context().new_page()
    page.goto(f"{sec_server.url}/admin/", wait_until="domcontentloaded")
    page.get_by_label("username").first.fill("alice", timeout=TIMEOUT_MS)
    page.get_by_label("password").first.fill(key)
    page.get_by_role("button", name="Login").click()
    page.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)

    page.get_by_role("tab", name="Review queue", exact=True).click()
    page.locator("#rv-refresh").click()
    page.locator("#rv-table .body-cell", has_text=tag).first.click(timeout=TIMEOUT_MS)
    wait_text(page, "#rv-item", image)

    page.get_by_role("tab", name="Trace", exact=True).click()
    page.locator("#tc-id textarea, #tc-id input").first.fill(turn["message_id"])
    page.locator("#tc-go").click()
    wait_text(page, "#tc-summary", image)

    page.get_by_role("tab", name="Agent view", exact=True).click()
    page.get_by_role("button", name="Refresh").last.click()
    page.locator("#ag-list .body-cell", has_text=tag).first.click(timeout=TIMEOUT_MS)
    wait_text(page, "#ag-chat", image)
    page.wait_for_timeout(2000)  # time for any image the panels asked for to be fetched

    # Every part of the message shows literally ...
    for panel in ("#rv-item", "#tc-summary", "#ag-chat"):
        shown = page.locator(panel).inner_text()
        for part in (image, link, "**bold**", f"<img src={base}/raw>", "![y](/admin/logout)", "$$x^2$$"):
            assert part in shown, (panel, part, shown[:500])
    # ... and none of it became an element: no image, no link, no emphasis, no math.
    found = page.evaluate(
        """([panels, port]) => panels.flatMap(p => [...document.querySelectorAll(
               `${p} img, ${p} a, ${p} strong, ${p} em, ${p} .katex`)]
             .filter(e => /localhost|logout|example\\.org|bold|x\\^2|x2/.test(e.outerHTML + e.innerText))
             .map(e => `${p}: ${e.outerHTML.slice(0, 200)}`))""",
        [list(PANELS), tracker.port],
    )
    assert found == []
    assert tracker.hits == []
    # The admin is still logged in: the `/admin/logout` "image" was never requested.
    assert page.evaluate("() => fetch('/admin/config').then(r => r.status)") == 200
    page.context.close()
