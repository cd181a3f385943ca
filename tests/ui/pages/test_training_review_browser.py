"""The console's Training and Review tabs in plain words, in a real browser (Debian's Chromium) against `lepton
serve`: a retrain shows a progress bar by itself, then a one-line verdict, the ML metrics one click away; a
review item shows the bot's reply and why it was queued, a question asked twice as one row."""

from __future__ import annotations

import uuid

import httpx
import pytest

from assistant.operations.review_desk import REASON_WORDS
from tests.ui.http.test_retrain_jobs import _shrink_training_data
from tests.ui.pages.test_admin_browser import TIMEOUT_MS, chat, click_cell, create_admin_key, login, open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def small(launch):
    """A server whose stored training data is a few intents: a retrain takes seconds, not minutes."""
    proc = launch(start=False, name="plain-training")
    _shrink_training_data(proc.home)
    proc.start()
    return proc, create_admin_key(proc.home)


def test_a_review_item_shows_the_reply_and_why_in_plain_words(small, browser) -> None:
    proc, key = small
    tag = uuid.uuid4().hex[:6]
    question = f"do you sell garden gnomes shaped like {tag}"
    chat(proc.url, question)
    second = chat(proc.url, question.upper())  # two customers, one question
    items = httpx.get(
        f"{proc.url}/v1/admin/review",
        params={"grouped": "true"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()["items"]
    (item,) = [i for i in items if tag in i["text"].lower()]
    assert item["turn_id"] == second["message_id"] and item["copies"] == 2 and item["why"]

    page = browser.new_context().new_page()
    login(page, proc.url, key)
    page.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "Review queue")
    page.locator("#rv-refresh").click()
    row = page.locator("#rv-table .body-cell", has_text=tag)
    row.first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#rv-table .body-cell", has_text="2×").first.wait_for(
        timeout=TIMEOUT_MS
    )  # one row, asked twice
    reply = " ".join(second["reply"].split())
    assert page.locator("#rv-table .body-cell", has_text=reply[:40]).count() >= 1
    click_cell(page, "rv-table", tag)
    detail = page.locator("#rv-item")
    detail.get_by_text("The bot replied", exact=False).wait_for(timeout=TIMEOUT_MS)
    shown = detail.inner_text()
    assert reply[:60] in " ".join(shown.split())
    (why,) = [line for line in shown.splitlines() if line.startswith("Why it is here")]
    assert why == f"Why it is here: {'; '.join(item['why'])}"
    assert not any(code in why for code in REASON_WORDS)  # no reason codes such as "out_of_scope"
    assert "Asked 2 times" in shown
    page.context.close()


def test_a_retrain_shows_its_progress_then_its_verdict(small, browser) -> None:
    proc, key = small
    page = browser.new_context().new_page()
    login(page, proc.url, key)
    page.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    open_tab(page, "Training")
    versions = page.locator("#tr-versions")
    versions.locator(".body-cell", has_text="v0001").first.wait_for(timeout=TIMEOUT_MS)
    # Plain words first; the ML metrics sit in a closed accordion.
    assert not page.locator("#tr-table").is_visible()
    assert "macro" not in versions.inner_text().lower() and "OOS" not in versions.inner_text()

    page.locator("#tr-retrain").click()
    bar = page.locator("#tr-progress progress")
    bar.wait_for(state="visible", timeout=TIMEOUT_MS)  # no button to press: it shows by itself
    assert "Retraining:" in page.locator("#tr-progress").inner_text()
    page.wait_for_function(
        "() => /v0002 .*test questions correctly/.test(document.querySelector('#tr-verdict').innerText)",
        timeout=300_000,
    )
    verdict = page.locator("#tr-verdict").inner_text()
    assert "v0002" in verdict and ("promoted" in verdict or "kept v0001" in verdict), verdict
    bar.wait_for(state="detached", timeout=TIMEOUT_MS)
    job = httpx.get(
        f"{proc.url}/v1/admin/models/retrain", headers={"Authorization": f"Bearer {key}"}, timeout=30
    ).json()
    assert job["status"] == "done" and job["verdict"] in " ".join(verdict.split())
    versions.locator(".body-cell", has_text="v0002").first.wait_for(timeout=TIMEOUT_MS)  # the list reloaded

    page.get_by_text("ML details", exact=False).first.click()
    page.locator("#tr-table").get_by_text("held-out macro-F1", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    page.context.close()
