"""A real browser (Debian's Chromium driven by Playwright) on the chat page."""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page()
        yield page
        browser.close()


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
    while time.time() < deadline and not rows:
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
