"""The chat page and the widget in Chromium with `[brand]` set, served while the assistant is still starting
(issue #20 items 1, 2 and 6): a message sent then shows "getting ready…" in the customer's language, on the page
and in the widget, and is answered once the assistant is ready; the page carries the brand (title, colour,
avatar, greeting, suggestions) and none of Gradio's chrome; an agent's reply shows the agent's face on both."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from assistant.config import BrandSettings
from assistant.keys import KeyStore
from assistant.operations import operations_for
from assistant.pipeline import Assistant
from tests.ui.test_widget import ask, write_page
from tests.ui.test_widget import site as site  # noqa: F401 - the shop the widget is on (another origin)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DOT = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="
PRUNE = "When should I prune my roses?"
BRAND = BrandSettings(
    name="Acme Garden",
    color="#0a7d45",
    avatar=DOT,
    greeting={"en": "Welcome to Acme Garden! Ask us anything.", "zh": "欢迎光临 Acme 园艺！"},
    suggestions={"en": [PRUNE, "How often should I water tomato plants?"], "zh": ["玫瑰什么时候修剪？"]},
    agent_avatars={"Dana": DOT},
)
GREEN = "rgb(10, 125, 69)"


class SlowStart(Assistant):
    """An assistant whose generator takes until `release` is set to load (a stand-in for a slow model)."""

    release = threading.Event()

    def _make_generator(self):  # noqa: ANN202 - the base class's hook
        assert self.release.wait(300), "the test never let the assistant finish starting"
        return super()._make_generator()


@dataclass
class Served:
    url: str
    assistant: SlowStart

    def let_start(self) -> None:
        """Let the warm-up finish and wait until the assistant is ready."""
        self.assistant.release.set()
        deadline = time.time() + 120
        while not self.assistant.ready:
            assert time.time() < deadline, "the assistant did not become ready"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The full app (`create_server`, warm-up in the background as `lepton serve` does) on a small garden
    knowledge base, branded, its assistant held in the "loading the generator" stage until `let_start()`."""
    from assistant.config import load_settings
    from tests.ui.http.conftest import serve
    from ui.http.app import create_server

    root = tmp_path_factory.mktemp("brand-page")
    docs = root / "docs" / "en"
    docs.mkdir(parents=True)
    (docs / "pruning.md").write_text(
        "# Pruning roses\n\nPrune roses in late winter, just above an outward-facing bud, with clean secateurs.\n",
        encoding="utf-8",
    )
    (docs / "watering.md").write_text(
        "# Watering tomatoes\n\nWater tomato plants deeply twice a week at the base, never on the leaves.\n",
        encoding="utf-8",
    )
    settings = load_settings(
        home=root / "home", generator={"backend": "none"}, rate_limit_per_minute=100_000, brand=BRAND
    )
    loader = Assistant(settings)  # the knowledge base goes in first; the served assistant starts afresh
    loader.warm_up()
    assert loader.kb.ingest([root / "docs"]).added == 2
    del loader
    SlowStart.release.clear()
    assistant = SlowStart(settings)
    with serve(create_server(settings, assistant, warm_in_background=True), lifespan="on") as url:
        yield Served(url, assistant)
        SlowStart.release.set()


@pytest.fixture
def open_page(browser, served: Served):
    """open_page(locale) -> a fresh tab on the chat page, its greeting shown."""
    contexts = []

    def open_chat(locale: str = "en-US"):
        context = browser.new_context(locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(served.url, wait_until="domcontentloaded")
        page.locator("#chat .bot").first.wait_for()  # the greeting: the page's load event ran
        return page

    yield open_chat
    for context in contexts:
        context.close()


@pytest.fixture
def open_widget(browser, served: Served, site):
    """open_widget(lang) -> a fresh tab on a shop page (another origin) with the widget open."""
    shop, folder = site
    key = KeyStore(served.assistant.settings.home / "keys.db").create("widget", [shop], name="shop")
    contexts = []

    def open_chat(lang: str = "en"):
        context = browser.new_context(locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        name = write_page(folder, f"brand-{lang}.html", f"{served.url}/widget.js", key, lang)
        page.goto(f"{shop}/{name}", wait_until="domcontentloaded")
        page.locator("lepton-chat .bubble").click()
        return page

    yield open_chat
    for context in contexts:
        context.close()


def chat_text(page) -> str:
    return page.locator("#chat").inner_text()


def send(page, message: str) -> None:
    page.locator("#message textarea").fill(message)
    page.locator("#send").click()


def wait_for_text(page, text: str, timeout: float = 120_000) -> None:
    page.wait_for_function(
        "t => document.querySelector('#chat').innerText.includes(t)", arg=text, timeout=timeout
    )


# First: the assistant is still starting until this test lets it finish.
def widget_text(page) -> str:
    return page.evaluate("document.querySelector('lepton-chat').shadowRoot.querySelector('.log').innerText")


def test_a_message_sent_while_starting_says_getting_ready_then_is_answered(
    served: Served,
    open_page,
    open_widget,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert not served.assistant.ready, "this test runs first, while the assistant is held"
    caplog.set_level(logging.WARNING)
    english, chinese = open_page("en-US"), open_page("zh-CN")
    send(english, PRUNE)
    send(chinese, "玫瑰应该什么时候修剪？")
    # The reply's place says how far along the start is, in the customer's language, and keeps saying it.
    wait_for_text(english, "Getting ready… loading the answer writer (75 %)", 30_000)
    wait_for_text(chinese, "正在准备…加载回复生成模型（75%）", 30_000)
    # The widget says it when it opens (in its language), and in the place of a reply that waits.
    widget, widget_zh = open_widget("en"), open_widget("zh")
    widget.locator(
        "lepton-chat .notice", has_text="Getting ready… loading the answer writer (75 %)"
    ).wait_for()
    widget_zh.locator("lepton-chat .notice", has_text="正在准备…加载回复生成模型（75%）").wait_for()
    ask(widget, "How often should I water tomato plants?")
    held = widget.locator("lepton-chat .msg.bot .text").last
    held.filter(has_text="Getting ready… loading the answer writer (75 %)").wait_for()
    time.sleep(2.5)
    assert "Getting ready" in chat_text(english) and not served.assistant.ready
    assert "Getting ready… loading the answer writer (75 %)" in widget_text(widget)
    served.let_start()
    wait_for_text(english, "Sources")  # the final reply (tokens stream in first)
    text = chat_text(english)
    assert "Getting ready" not in text and "late winter" in text
    chinese.wait_for_function(
        "() => !document.querySelector('#chat').innerText.includes('正在准备')", timeout=60_000
    )
    # The widget sends the question it held once the server is ready; its start-up notice goes.
    widget.locator("lepton-chat .msg.bot .src").wait_for(timeout=60_000)
    assert "twice a week" in widget_text(widget) and "Getting ready" not in widget_text(widget)
    widget_zh.locator("lepton-chat .notice").wait_for(state="detached", timeout=30_000)
    # No error toast or box, no traceback: the message simply waited.
    for page in (english, chinese):
        assert page.locator(".toast-body").count() == 0
    for page in (widget, widget_zh):
        assert page.locator("lepton-chat .error").count() == 0
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not failures, [r.getMessage() for r in failures]
    assert "Traceback" not in capsys.readouterr().err  # Gradio prints a failed handler's traceback


def test_title_colour_and_avatar_come_from_the_brand(open_page) -> None:
    page = open_page()
    assert page.title() == "Acme Garden — support"
    assert page.locator("#brand h1").inner_text() == "Acme Garden"
    green = "rgb(10, 125, 69)"
    assert page.locator("#send").evaluate("b => getComputedStyle(b).backgroundColor") == green
    avatar = page.locator("#chat .avatar-container img").first
    assert avatar.get_attribute("src") == DOT
    assert avatar.evaluate("i => i.complete && i.naturalWidth > 0")  # the data: URI loads as it is
    send(page, "How often should I water tomato plants?")
    user = page.locator("#chat .user").first
    user.wait_for()
    assert user.evaluate("b => getComputedStyle(b).backgroundColor") == green
    assert user.locator("p").evaluate("p => getComputedStyle(p).color") == "rgb(255, 255, 255)"


def test_no_gradio_chrome(open_page) -> None:
    """No "Chat" label over the messages, no share / clear / copy-all buttons, no footer links."""
    page = open_page()
    chat = page.locator("#chat")
    assert chat.locator("[data-testid='block-label'], label").count() == 0
    assert not chat.inner_text().startswith("Chat")
    for name in ("Share", "Clear", "Copy"):
        assert chat.get_by_role("button", name=name).filter(visible=True).count() == 0, name
    assert page.locator("footer").filter(visible=True).count() == 0
    assert page.get_by_text("Built with Gradio").count() == 0
    # The greeting is no answer: no thumbs under it.
    assert chat.locator("button[aria-label='Dislike']").filter(visible=True).count() == 0


def test_greeting_and_a_suggestion_that_gets_answered(served: Served, open_page) -> None:
    served.let_start()
    page = open_page()
    assert chat_text(page).strip() == "Welcome to Acme Garden! Ask us anything."
    offers = page.locator("#suggestions button")
    assert offers.filter(visible=True).all_inner_texts() == [PRUNE, "How often should I water tomato plants?"]
    offers.filter(has_text=PRUNE).click()
    wait_for_text(page, "Sources")
    text = chat_text(page)
    assert text.count(PRUNE) == 1 and "late winter" in text
    assert page.locator("#suggestions").is_hidden()  # asked: the suggestions go
    # The reply can be rated (its thumbs stay).
    assert page.locator("#chat button[aria-label='Dislike']").filter(visible=True).count() == 1


def test_chinese_reader_gets_the_chinese_greeting_suggestions_and_box(open_page) -> None:
    """Checked through the DOM (the test machine has no CJK fonts)."""
    page = open_page("zh-CN")
    assert page.locator("#chat .bot").first.inner_text().strip() == "欢迎光临 Acme 园艺！"
    assert page.locator("#suggestions button").filter(visible=True).all_inner_texts() == [
        "玫瑰什么时候修剪？"
    ]
    # The box's hint and the Send button too (an English reader's are English only).
    expect(page.locator("#message textarea")).to_have_attribute("placeholder", "请输入您的问题…")
    expect(page.locator("#send")).to_have_text("发送")
    english = open_page("en-US")
    expect(english.locator("#message textarea")).to_have_attribute("placeholder", "Type your question…")
    expect(english.locator("#send")).to_have_text("Send")


def handed_off(served: Served, tag: str) -> str:
    """The session waiting for a person whose last message holds `tag`."""
    waiting = operations_for(served.assistant).agents.handoffs()
    return next(s["id"] for s in waiting if tag in (s["last_message"] or ""))


def test_an_agents_reply_shows_the_agents_face_on_the_page_and_in_the_widget(
    served: Served, open_page, open_widget
) -> None:
    """Their picture (`[brand] agent_avatars`), else their initial on the brand colour; on the page in the
    avatar column, where the bot's rows have the brand avatar."""
    served.let_start()
    desk = operations_for(served.assistant).agents
    page = open_page()
    send(page, "I want to talk to a real person please (page-7)")
    wait_for_text(page, "connecting you")
    session = handed_off(served, "page-7")
    desk.reply(session, "Hi, Dana here.", "Dana")
    desk.reply(session, "And Sam.", "sam")
    wait_for_text(page, "And Sam.", 30_000)
    agents = page.locator("#chat .message-row:has(.lepton-agent)")
    assert agents.nth(0).locator("img.lepton-face").get_attribute("src") == DOT
    sam = agents.nth(1).locator(".lepton-face")
    assert sam.inner_text() == "S" and sam.evaluate("f => getComputedStyle(f).backgroundColor") == GREEN
    assert "sam · Support agent" in agents.nth(1).inner_text()
    # The face sits where the bot's rows show the brand avatar (hidden in the agent's rows).
    bot_avatar = page.locator("#chat .bot-row:not(:has(.lepton-agent)) .avatar-container").first
    assert bot_avatar.locator("img").get_attribute("src") == DOT and bot_avatar.is_visible()
    assert abs(sam.bounding_box()["x"] - bot_avatar.bounding_box()["x"]) <= 2
    assert (
        agents.nth(1).locator(".avatar-container").evaluate("a => getComputedStyle(a).visibility") == "hidden"
    )

    widget = open_widget("en")
    ask(widget, "I want to talk to a real person please (widget-7)")
    widget.locator("lepton-chat .notice", has_text="connected to a person").wait_for()
    session = handed_off(served, "widget-7")
    desk.reply(session, "Hello from Dana.", "Dana")
    desk.reply(session, "Sam here.", "sam")
    faces = widget.locator("lepton-chat .msg.agent .byline .face")
    faces.nth(1).wait_for(timeout=30_000)  # the widget polls every 4 s
    assert faces.nth(0).get_attribute("src") == DOT
    assert faces.nth(1).inner_text() == "S"
    assert faces.nth(1).evaluate("f => getComputedStyle(f).backgroundColor") == GREEN
    assert widget.locator("lepton-chat .msg.agent .who").all_inner_texts() == ["Dana", "sam"]
    assert widget.locator("lepton-chat .msg.bot .face").count() == 0
