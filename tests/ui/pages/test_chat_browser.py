"""A real browser (Debian's Chromium driven by Playwright) on the chat page."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def page(browser):
    """One page in the shared headless Chromium (tests/conftest.py)."""
    page = browser.new_page()
    yield page
    page.close()


MARKERS = r"/(Sources|来源|connecting you|转接|I'm sorry|抱歉)/g"


def ask(page, question: str) -> str:
    """Send `question` and return the chat text after it, once the final reply (with its sources) is in."""
    count = f"(document.querySelector('#chat').innerText.match({MARKERS}) || []).length"
    before = page.evaluate(count)
    page.locator("#message textarea").fill(question)
    page.locator("#send").click()
    # Tokens stream in first; the final reply carries the sources list (or a fallback/handoff text).
    page.wait_for_function(f"n => {count} > n", arg=before, timeout=120_000)
    text = page.locator("#chat").inner_text()
    return text[text.rfind(question) + len(question) :]


def test_customer_asks_and_sees_a_sourced_answer(server, page) -> None:
    page.goto(server.url, wait_until="domcontentloaded")
    page.locator("#message textarea").wait_for(timeout=60_000)
    answer = ask(page, "How long do I have to return something I bought?")
    assert "30" in answer and "Sources" in answer


def test_thumbs_down_on_the_chat_page_is_stored(server, page) -> None:
    import sqlite3
    import time

    page.locator("#chat button[aria-label='Dislike']").last.click()
    deadline = time.time() + 20
    rows: list = []
    while time.time() < deadline and ("down",) not in rows:  # the session's server has others' ratings too
        con = sqlite3.connect(server.home / "conversations.db")
        try:
            rows = con.execute("select rating from feedback").fetchall()
        except sqlite3.OperationalError:
            rows = []
        con.close()
        time.sleep(0.5)
    assert ("down",) in rows


def test_chinese_question_in_the_browser(server, page) -> None:
    answer = ask(page, "怎么重置密码？")
    assert "来源" in answer and "60" in answer


# -- issue #18 items 8 and 10 ---------------------------------------------------------------------------------
def test_two_messages_sent_while_the_first_streams_are_both_answered_in_order(server, page) -> None:
    """A message sent while a reply streams is queued and answered after it, in order (not dropped)."""
    page.goto(server.url, wait_until="domcontentloaded")  # a fresh tab: a fresh conversation
    box = page.locator("#message textarea")
    box.wait_for(timeout=60_000)
    first, second = "What is your return policy for opened laptops?", "Do gift cards expire?"
    box.fill(first)
    box.press("Enter")
    # The first message is on screen and the box is empty again: the reply is being made; send the next one.
    page.wait_for_function(
        "q => document.querySelector('#message textarea').value === '' && "
        "document.querySelector('#chat').innerText.includes(q)",
        arg=first,
        timeout=60_000,
    )
    box.fill(second)
    box.press("Enter")
    page.wait_for_function(
        f"() => (document.querySelector('#chat').innerText.match({MARKERS}) || []).length >= 2",
        timeout=120_000,
    )
    text = page.locator("#chat").inner_text()
    assert box.input_value() == ""
    assert text.count(first) == 1 and text.count(second) == 1, text
    one, two = text.index(first), text.index(second)
    reply_one, reply_two = text[one + len(first) : two], text[two + len(second) :]
    assert "15" in reply_one and "Sources" in reply_one, text  # opened laptops: a 15-day window
    assert "expire" in reply_two.lower() and "Sources" in reply_two, text


@pytest.fixture(scope="module")
def garden_url(tmp_path_factory: pytest.TempPathFactory):
    """The full app (API + chat page) in this process, on a small garden-shop knowledge base whose documents
    have public URLs: one from front matter, the other from `public_base_url`."""
    from assistant.config import load_settings
    from assistant.pipeline import Assistant
    from tests.ui.http.conftest import serve
    from ui.http.app import create_server

    root = tmp_path_factory.mktemp("garden-page")
    docs = root / "docs" / "en"
    docs.mkdir(parents=True)
    (docs / "pruning.md").write_text(
        "---\ntitle: Pruning roses\nurl: https://garden.example/guides/pruning?a=1&b=(2)\n---\n# Pruning roses"
        "\n\nPrune roses in late winter, just above an outward-facing bud, with clean secateurs.\n",
        encoding="utf-8",
    )
    (docs / "watering.md").write_text(
        "# Watering tomatoes\n\nWater tomato plants deeply twice a week at the base, never on the leaves.\n",
        encoding="utf-8",
    )
    settings = load_settings(
        home=root / "home",
        generator={"backend": "none"},
        public_base_url="https://help.garden.example/",
        rate_limit_per_minute=100_000,
    )
    assistant = Assistant(settings)
    assistant.warm_up()
    assert assistant.kb.ingest([root / "docs"]).added == 2
    with serve(create_server(settings, assistant, warm_in_background=False), lifespan="on") as url:
        yield url


def test_chat_page_links_sources_to_their_public_pages(garden_url: str, page) -> None:
    """Front matter `url` and `public_base_url` + path become links that open in a new tab without an
    opener or referrer; the page shows no server path."""
    page.goto(garden_url, wait_until="domcontentloaded")
    page.locator("#message textarea").wait_for(timeout=60_000)
    ask(page, "When should I prune my roses?")
    link = page.locator("#chat a", has_text="Pruning roses").last
    assert link.get_attribute("href") == "https://garden.example/guides/pruning?a=1&b=(2)"
    assert link.get_attribute("target") == "_blank"
    assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    ask(page, "How often should I water tomato plants?")
    link = page.locator("#chat a", has_text="Watering tomatoes").last
    assert link.get_attribute("href") == "https://help.garden.example/en/watering"
    assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    html = page.locator("#chat").inner_html()
    assert ".md" not in html and "/docs/" not in html
