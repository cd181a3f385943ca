"""The embeddable chat widget (`ui/static/widget.js`): size, markup safety, and a real browser.

The browser tests put the one `<script data-key>` tag on a hostile page served from another origin. Most of
them answer the widget's requests with Playwright routes (deterministic replies, errors, a handoff); one
drives the real `lepton serve` process with a widget key from `lepton keys create --kind widget`.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
WIDGET = ROOT / "ui" / "static" / "widget.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
FAKE_API = "http://lepton.test"
HOSTILE_CSS = """
* { color: red !important; display: block !important; font-size: 40px !important;
    background: yellow !important; position: static !important; opacity: .5 !important; }
button, textarea, section { display: none !important; }
"""
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "authorization, content-type",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
}


# ---- static checks --------------------------------------------------------------------------------


def test_widget_is_small() -> None:
    raw = WIDGET.read_bytes()
    assert len(gzip.compress(raw, 9)) <= 30 * 1024
    assert len(raw) <= 60 * 1024


def test_widget_never_writes_markup() -> None:
    code = re.sub(r"/\*.*?\*/", "", WIDGET.read_text(), flags=re.S)
    for sink in (
        r"\.innerHTML\b",
        r"\.outerHTML\b",
        r"insertAdjacentHTML",
        r"document\.write",
        r"\beval\s*\(",
        r"new\s+Function\b",
        r"srcdoc",
    ):
        assert not re.search(sink, code), f"widget.js uses {sink}"
    assert "createTextNode" in code and "textContent" in code


def test_widget_has_no_external_dependencies() -> None:
    code = WIDGET.read_text()
    assert not re.search(r"\bimport\b|require\(|https?://(?!www\.w3\.org/2000/svg)", code.split("*/", 1)[1])


# ---- browser fixtures -----------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A plain static site on its own 127.0.0.1 port (another origin than the API): (url, folder)."""
    folder = tmp_path_factory.mktemp("site")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", folder
    httpd.shutdown()
    httpd.server_close()


def write_page(folder: Path, name: str, src: str, key: str, lang: str | None = None) -> str:
    lang_attr = f' data-lang="{lang}"' if lang else ""
    (folder / name).write_text(
        f"<!doctype html><html><head><meta charset=utf-8><title>Shop</title><style>{HOSTILE_CSS}</style></head>"
        f"<body><h1>A shop with hostile CSS</h1><p>Page text.</p>"
        f'<script src="{src}" data-key="{key}"{lang_attr}></script></body></html>',
        encoding="utf-8",
    )
    return name


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


class FakeApi:
    """Answers the widget's requests on FAKE_API through Playwright routes, and records them."""

    def __init__(self) -> None:
        self.chat: list[
            dict
        ] = []  # queued /v1/chat answers: {"status", "events" | "json"} or {"abort": True}
        self.session: dict | None = None
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.held: list = []  # /v1/chat requests answered {"hold": True}: the test fulfils them later
        # /healthz answers, in turn (the last one stays): a server that is ready unless a test says otherwise.
        self.health: list[tuple[int, dict]] = [(200, {"status": "ok", "intent_model": "v0001"})]

    def handle(self, route) -> None:
        req = route.request
        path = req.url[len(FAKE_API) :]
        if req.method == "OPTIONS":
            route.fulfill(status=204, headers=CORS)
            return
        body = json.loads(req.post_data) if req.post_data else {}
        self.requests.append((req.method, path, dict(req.headers), body))
        if path == "/widget.js":
            route.fulfill(body=WIDGET.read_text(), content_type="application/javascript")
        elif path == "/v1/chat":
            answer = self.chat.pop(0)
            if answer.get("hold"):
                self.held.append(route)
            else:
                self.answer(route, answer)
        elif path == "/healthz":
            status, health = self.health.pop(0) if len(self.health) > 1 else self.health[0]
            route.fulfill(
                status=status, body=json.dumps(health), headers={**CORS, "Content-Type": "application/json"}
            )
        elif path == "/v1/feedback":
            route.fulfill(
                status=200, body='{"ok": true}', headers={**CORS, "Content-Type": "application/json"}
            )
        elif path.startswith("/v1/sessions/") and self.session is not None:
            route.fulfill(
                status=200,
                body=json.dumps(self.session),
                headers={**CORS, "Content-Type": "application/json"},
            )
        else:
            route.fulfill(
                status=404,
                body='{"error": {"code": "not_found", "message": "No such thing."}}',
                headers={**CORS, "Content-Type": "application/json"},
            )

    @staticmethod
    def answer(route, answer: dict) -> None:
        """Answer one /v1/chat request: {"abort": True}, SSE {"events"} or {"status", "json"}."""
        if answer.get("abort"):
            route.abort("connectionrefused")
        elif "events" in answer:
            text = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in answer["events"])
            route.fulfill(status=200, body=text, headers={**CORS, "Content-Type": "text/event-stream"})
        else:
            route.fulfill(
                status=answer["status"],
                body=json.dumps(answer["json"]),
                headers={**CORS, "Content-Type": "application/json"},
            )

    def calls(self, path: str) -> list[tuple[str, str, dict, dict]]:
        return [r for r in self.requests if r[1].startswith(path)]


def reply(
    text: str,
    *,
    language: str = "en",
    route: str = "rag",
    sources: list | None = None,
    tokens: list[str] | None = None,
    message_id: str = "m1",
) -> dict:
    final = {
        "session_id": "s1",
        "message_id": message_id,
        "reply": text,
        "language": language,
        "intent": {"name": None, "confidence": 0.5},
        "route": route,
        "sources": sources or [],
        "latency_ms": 5,
    }
    return {"events": [("token", {"text": t}) for t in (tokens or [text])] + [("final", final)]}


@pytest.fixture
def fake(browser, site):
    """(page, api, open_page): a fresh browser context whose widget talks to a FakeApi."""
    url, folder = site
    api = FakeApi()
    context = browser.new_context(locale="en-US")
    context.route(f"{FAKE_API}/**", api.handle)
    page = context.new_page()
    page.set_default_timeout(15_000)

    def open_page(lang: str | None = None) -> None:
        name = write_page(folder, f"fake-{lang or 'auto'}.html", f"{FAKE_API}/widget.js", "wk_test", lang)
        page.goto(f"{url}/{name}", wait_until="domcontentloaded")
        page.locator("lepton-chat .bubble").wait_for()

    yield page, api, open_page
    context.close()


def shadow(page, js: str):
    """Evaluate `js` (an expression over `root`, the widget's shadow root) in the page."""
    return page.evaluate(
        f"() => {{ const root = document.querySelector('lepton-chat').shadowRoot; return {js}; }}"
    )


def ask(page, text: str) -> None:
    page.locator("lepton-chat textarea").fill(text)
    page.locator("lepton-chat textarea").press("Enter")


# ---- browser tests against routed replies -----------------------------------------------------------


@pytest.mark.browser
def test_bubble_opens_a_panel_that_hostile_css_cannot_touch(fake) -> None:
    page, api, open_page = fake
    open_page()
    bubble = page.locator("lepton-chat .bubble")
    assert bubble.get_attribute("aria-label") == "Open chat"
    assert page.locator("lepton-chat .panel").is_hidden()
    box = bubble.bounding_box()
    size = page.viewport_size
    assert box and box["x"] > size["width"] - 100 and box["y"] > size["height"] - 100  # bottom-right
    assert (
        shadow(page, "getComputedStyle(root.querySelector('.bubble')).backgroundColor") == "rgb(43, 89, 195)"
    )
    bubble.click()
    assert page.locator("lepton-chat .panel").is_visible()
    assert bubble.get_attribute("aria-expanded") == "true"
    assert shadow(page, "getComputedStyle(root.querySelector('h2')).color") == "rgb(255, 255, 255)"
    assert shadow(page, "getComputedStyle(root.querySelector('.log .msg')).color") != "rgb(255, 0, 0)"
    assert shadow(page, "getComputedStyle(root.querySelector('.log .msg')).fontSize") == "14px"
    # ...and the widget's own CSS does not leak out onto the page.
    assert page.evaluate("getComputedStyle(document.querySelector('p')).color") == "rgb(255, 0, 0)"
    # Opening asks only whether the server is ready (without the key: nothing about the customer).
    page.wait_for_timeout(300)
    assert [r[1] for r in api.requests] == ["/widget.js", "/healthz"]
    assert "authorization" not in api.requests[1][2]


@pytest.mark.browser
def test_streamed_reply_with_sources_feedback_and_inert_html(fake) -> None:
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    evil = '<img src=x onerror="window.__pwned=1">'
    api.chat.append(
        reply(
            f"Returns are free within 30 days. {evil}",
            tokens=["Returns are ", "free within 30 days. ", evil],
            sources=[
                {
                    "id": "a",
                    "title": "Returns <b>policy</b>",
                    "uri": "https://shop.example/returns",
                    "snippet": "…",
                },
                {"id": "b", "title": "Refund times", "uri": "template:refund_time", "snippet": "…"},
                {"id": "c", "title": "Sneaky", "uri": "javascript:window.__pwned=2", "snippet": "…"},
            ],
        )
    )
    ask(page, f"can I return it? {evil}")
    bot = page.locator("lepton-chat .msg.bot").last
    page.locator("lepton-chat .msg.bot .src").wait_for()
    assert "30 days" in bot.inner_text() and evil in bot.locator(".text").inner_text()
    assert evil in page.locator("lepton-chat .msg.user").last.inner_text()
    assert shadow(page, "root.querySelectorAll('img, script, li a *, .text *').length") == 0
    links = page.locator("lepton-chat .src a")
    assert links.count() == 1
    assert links.first.get_attribute("href") == "https://shop.example/returns"
    assert links.first.get_attribute("target") == "_blank" and "noopener" in links.first.get_attribute("rel")
    assert links.first.inner_text() == "Returns <b>policy</b>"
    assert "Refund times" in bot.inner_text() and "Sneaky" in bot.inner_text()
    assert page.evaluate("window.__pwned") is None

    # The request: streaming, the key as a bearer token, no session yet; the session is kept afterwards.
    _, _, headers, body = api.calls("/v1/chat")[0]
    key = body.pop("client_message_id")  # a fresh idempotency key per message
    assert re.fullmatch(r"[0-9a-f]{32}", key), key
    assert body == {"message": f"can I return it? {evil}", "session_id": None, "stream": True}
    assert headers["authorization"] == "Bearer wk_test"
    assert page.evaluate("sessionStorage.getItem('lepton:http://lepton.test:session')") == "s1"
    expect(page.locator("lepton-chat .sr[aria-live]")).to_have_text(re.compile(re.escape(evil) + "$"))

    bot.get_by_role("button", name="Helpful", exact=True).click()
    page.locator("lepton-chat .fb span", has_text="Thanks for your feedback").wait_for()
    assert api.calls("/v1/feedback")[0][3] == {"message_id": "m1", "rating": "up"}
    assert bot.get_by_role("button", name="Not helpful").is_disabled()

    # The next message continues the same session.
    api.chat.append(reply("Anything else?", message_id="m2"))
    ask(page, "thanks")
    page.locator("lepton-chat .msg.bot", has_text="Anything else?").locator(".fb").wait_for()
    assert api.calls("/v1/chat")[1][3]["session_id"] == "s1"


@pytest.mark.browser
def test_sources_link_to_their_public_url_and_name_the_rest(fake) -> None:
    """Issue #18 item 8: `url` is the link (the `uri` is then a name such as `kb:en/returns`); a source
    without a public URL is its title, unlinked."""
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    api.chat.append(
        reply(
            "Returns are free within 30 days.",
            sources=[
                {
                    "id": "a",
                    "title": "Returns",
                    "uri": "kb:en/returns",
                    "snippet": "…",
                    "url": "https://help.shop/en/returns",
                },
                {"id": "b", "title": "Refunds", "uri": "kb:en/refunds", "snippet": "…", "url": None},
                {
                    "id": "c",
                    "title": "Labels",
                    "uri": "kb:en/labels",
                    "snippet": "…",
                    "url": "javascript:window.__pwned=1",
                },
            ],
        )
    )
    ask(page, "can I return it?")
    bot = page.locator("lepton-chat .msg.bot").last
    bot.locator(".src").wait_for()
    links = bot.locator(".src a")
    assert links.count() == 1 and links.first.get_attribute("href") == "https://help.shop/en/returns"
    assert links.first.get_attribute("target") == "_blank"
    assert set(links.first.get_attribute("rel").split()) == {"noopener", "noreferrer"}
    items = bot.locator(".src li").all_inner_texts()
    assert [i.strip("\u2022 ") for i in items] == ["Returns", "Refunds", "Labels"]
    assert "kb:" not in bot.inner_text()


@pytest.mark.browser
def test_a_message_sent_while_a_reply_streams_is_queued_and_answered_next(fake) -> None:
    """Issue #18 item 10: the box takes a new message while a reply streams; it shows at once and is sent,
    in the same session, when the reply is done."""
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    api.chat.append({"hold": True})
    ask(page, "first question")
    for _ in range(100):
        if api.held:
            break
        page.wait_for_timeout(50)
    assert api.held, "the first question never reached the API"
    ask(page, "second question")
    assert page.locator("lepton-chat textarea").input_value() == ""
    assert page.locator("lepton-chat .msg.user").all_inner_texts()[-1].endswith("second question")
    page.wait_for_timeout(300)
    assert len(api.calls("/v1/chat")) == 1  # not sent over the reply still streaming

    api.chat.append(reply("Second answer.", message_id="m2"))
    api.answer(api.held.pop(), reply("First answer.", message_id="m1"))
    page.locator("lepton-chat .msg.bot", has_text="Second answer.").locator(".fb").wait_for()
    order = shadow(
        page,
        "[...root.querySelectorAll('.log .msg')].map(m => m.querySelector('.text') ? "
        "m.querySelector('.text').textContent : m.textContent)",
    )
    assert [o.replace("You: ", "") for o in order[-4:]] == [
        "first question",
        "First answer.",
        "second question",
        "Second answer.",
    ], order
    assert [c[3]["message"] for c in api.calls("/v1/chat")] == ["first question", "second question"]
    assert api.calls("/v1/chat")[1][3]["session_id"] == "s1"  # the first reply's session continues
    assert page.locator("lepton-chat .error").count() == 0


@pytest.mark.browser
def test_errors_are_explained(fake) -> None:
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    api.chat += [
        {"status": 500, "json": {"error": {"code": "internal_error", "message": "boom"}}},
        {"abort": True},  # a network error is tried once more
        {"abort": True},
        {"status": 401, "json": {"error": {"code": "unauthorized", "message": "Bad key."}}},
        {"status": 422, "json": {"error": {"code": "empty_message", "message": "The message is empty."}}},
        {"events": [("token", {"text": "Half"})]},  # the stream ends without a final event, twice
        {"events": [("token", {"text": "Half"})]},
    ]
    expected = [
        "Something went wrong on our side",
        "Cannot reach the assistant",
        "not set up correctly",
        "The message is empty.",
        "The reply was interrupted",
    ]
    for i, text in enumerate(expected):
        ask(page, f"question {i}")
        page.locator("lepton-chat .error").nth(i).wait_for()
        assert text in page.locator("lepton-chat .error").nth(i).inner_text()
        assert page.locator("lepton-chat .error").nth(i).get_attribute("role") == "alert"
    assert page.locator("lepton-chat .msg.bot .text").count() == 0  # no half-finished replies left behind
    assert page.locator("lepton-chat form button").is_enabled()
    assert len(api.calls("/v1/chat")) == 7 and not api.chat


@pytest.mark.browser
def test_a_lost_reply_is_asked_for_again_with_the_same_message_id(fake) -> None:
    """A replica gone mid-request (the gateway's 502, a broken connection): the widget sends the same body once
    more, so the server answers the message once (its `client_message_id` finds the turn already logged)."""
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    gone = {"status": 502, "json": {"error": {"code": "bad_gateway", "message": "upstream died"}}}
    api.chat += [
        gone,
        reply("First answer.", message_id="m1"),
        {"abort": True},
        reply("Second.", message_id="m2"),
    ]
    ask(page, "first question")
    page.locator("lepton-chat .msg.bot", has_text="First answer.").locator(".fb").wait_for()
    ask(page, "second question")
    page.locator("lepton-chat .msg.bot", has_text="Second.").locator(".fb").wait_for()
    bodies = [c[3] for c in api.calls("/v1/chat")]
    assert [b["message"] for b in bodies] == ["first question"] * 2 + ["second question"] * 2
    assert bodies[0] == bodies[1] and bodies[2] == bodies[3]  # the same body, key included
    ids = [b["client_message_id"] for b in bodies]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16,128}", i) for i in ids) and ids[1] != ids[2]
    assert page.locator("lepton-chat .error").count() == 0


@pytest.mark.browser
def test_keyboard_only(fake) -> None:
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").focus()
    page.keyboard.press("Enter")
    assert page.locator("lepton-chat .panel").is_visible()
    assert (
        page.evaluate("document.querySelector('lepton-chat').shadowRoot.activeElement.tagName") == "TEXTAREA"
    )
    assert page.locator("lepton-chat .panel").get_attribute("role") == "dialog"
    api.chat.append(reply("Hello!"))
    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    page.locator("lepton-chat .msg.bot", has_text="Hello!").wait_for()
    page.keyboard.press("Escape")
    assert page.locator("lepton-chat .panel").is_hidden()
    assert (
        page.evaluate("document.querySelector('lepton-chat').shadowRoot.activeElement.className") == "bubble"
    )


@pytest.mark.browser
def test_language_from_attribute_then_from_the_reply(fake) -> None:
    page, api, open_page = fake
    open_page(lang="zh")
    assert page.locator("lepton-chat .bubble").get_attribute("aria-label") == "打开聊天"
    page.locator("lepton-chat .bubble").click()
    assert page.locator("lepton-chat textarea").get_attribute("placeholder").startswith("请输入")
    api.chat.append(
        reply(
            "Refunds take 5-7 days.",
            language="en",
            sources=[{"id": "a", "title": "Refunds", "uri": "docs/refunds.md", "snippet": ""}],
        )
    )
    ask(page, "refund time?")
    page.locator("lepton-chat .src").wait_for()
    assert page.locator("lepton-chat .src b").inner_text() == "Sources"
    assert page.locator("lepton-chat textarea").get_attribute("placeholder").startswith("Type your question")
    assert page.locator("lepton-chat form button").inner_text() == "Send"


@pytest.mark.browser
def test_browser_language_picks_chinese(browser, site) -> None:
    url, folder = site
    api = FakeApi()
    context = browser.new_context(locale="zh-CN")
    context.route(f"{FAKE_API}/**", api.handle)
    page = context.new_page()
    try:
        page.goto(
            f"{url}/{write_page(folder, 'zh-auto.html', f'{FAKE_API}/widget.js', 'wk')}",
            wait_until="domcontentloaded",
        )
        page.locator("lepton-chat .bubble").click()
        assert page.locator("lepton-chat h2").inner_text() == "在线客服"
        assert page.locator("lepton-chat form button").inner_text() == "发送"
    finally:
        context.close()


@pytest.mark.browser
def test_handoff_shows_a_notice_polls_for_the_agent_and_survives_a_reload(fake) -> None:
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    api.chat.append(reply("Let me connect you with a colleague.", route="handoff", message_id="t1"))
    ask(page, "I want a human")
    page.locator("lepton-chat .notice", has_text="connected to a person").wait_for()
    turns = [
        {
            "id": "t1",
            "created_at": 1,
            "message": "I want a human",
            "reply": "Let me connect you with a colleague.",
            "route": "handoff",
            "language": "en",
            "intent": "handoff",
            "sources": [],
        }
    ]
    api.session = {"session_id": "s1", "status": "handoff", "turns": turns}
    page.wait_for_function(
        "() => document.querySelector('lepton-chat').shadowRoot.querySelectorAll('.msg').length >= 3"
    )
    api.session = {
        "session_id": "s1",
        "status": "handoff",
        "turns": turns
        + [
            {
                "id": "t2",
                "created_at": 2,
                "message": "",
                "reply": "Hi, this is Dana <script>x</script>",
                "route": "agent",
                "language": "en",
                "intent": None,
                "sources": [],
            }
        ],
    }
    agent = page.locator("lepton-chat .msg.agent")
    agent.wait_for(timeout=15_000)
    assert "Dana <script>x</script>" in agent.inner_text() and "Agent" in agent.inner_text()
    assert page.locator("lepton-chat .msg.user").count() == 1  # the customer's turn is not repeated
    assert all(r[2]["authorization"] == "Bearer wk_test" for r in api.calls("/v1/sessions/"))

    # A new page on the same site (same tab session) restores the conversation and keeps polling.
    open_page()
    page.locator("lepton-chat .msg.agent").wait_for(state="attached")
    page.locator("lepton-chat .bubble").click()
    assert page.locator("lepton-chat .msg.user").inner_text().endswith("I want a human")
    assert page.locator("lepton-chat .notice").count() == 1


# ---- the real server ----------------------------------------------------------------------------------


def widget_key(home: Path, origin: str) -> str:
    """A widget key for `origin` from the real command (`lepton keys create` prints it as its last line)."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "keys",
            "create",
            "--kind",
            "widget",
            "--origin",
            origin,
            "--home",
            str(home),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, f"lepton keys create failed: {run.stdout[-1500:]}{run.stderr[-1500:]}"
    return run.stdout.strip().splitlines()[-1].strip()


@pytest.mark.slow
@pytest.mark.browser
def test_widget_on_another_origin_against_the_real_server(server, browser, site) -> None:
    url, folder = site
    key = widget_key(server.home, url)
    page_name = write_page(folder, "real.html", f"{server.url}/widget.js", key)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    try:
        with page.expect_response(f"{server.url}/widget.js") as script:
            page.goto(f"{url}/{page_name}", wait_until="domcontentloaded")
        assert script.value.status == 200
        assert script.value.headers["content-type"].startswith("application/javascript")
        assert "max-age=300" in script.value.headers["cache-control"]
        page.locator("lepton-chat .bubble").click()
        # Record, in order, each text the reply shows and when its sources appear: tokens render before the final.
        page.evaluate("""() => {
            window.__states = [];
            const log = document.querySelector('lepton-chat').shadowRoot.querySelector('.log');
            new MutationObserver(records => {
                for (const r of records) for (const n of r.addedNodes) {
                    if (n.nodeType === 3 && r.target.classList.contains('text')) window.__states.push(['text', n.data]);
                    else if (n.nodeType === 1 && n.classList.contains('src')) window.__states.push(['sources', '']);
                }
            }).observe(log, {subtree: true, childList: true});
        }""")
        with page.expect_response(f"{server.url}/v1/chat", timeout=180_000) as chat:
            ask(page, "How long do I have to return something I bought?")
        assert chat.value.status == 200
        assert chat.value.headers["content-type"].startswith("text/event-stream")
        bot = page.locator("lepton-chat .msg.bot").last
        bot.locator(".src").wait_for(timeout=180_000)
        text = bot.inner_text()
        assert "30" in text and "Sources" in text
        events = chat.value.text()
        assert events.index("event: token") < events.index("event: final")
        states = page.evaluate("window.__states")
        streamed = [
            v for kind, v in states[: states.index(["sources", ""])] if kind == "text" and v != "\u2026"
        ]
        assert streamed, states

        with page.expect_response(f"{server.url}/v1/feedback") as feedback:
            bot.get_by_role("button", name="Helpful", exact=True).click()
        assert feedback.value.ok, feedback.value.text()
        bot.locator(".fb span", has_text="Thanks for your feedback").wait_for()

        # A question carrying markup: shown as text, never run.
        ask(page, '<img src=x onerror="window.__pwned=1"> where is my order?')
        page.locator("lepton-chat .msg.bot").nth(2).locator(".fb, .src").first.wait_for(timeout=180_000)
        assert "<img src=x" in page.locator("lepton-chat .msg.user").last.inner_text()
        assert page.evaluate("window.__pwned") is None
        assert (
            page.evaluate("document.querySelector('lepton-chat').shadowRoot.querySelectorAll('img').length")
            == 0
        )
        assert page.locator("lepton-chat .error").count() == 0
    finally:
        context.close()
