"""The widget while its server starts (issue #20 item 1), on a routed fake API: opening the chat says how far
along the start is, not an error; a question asked meanwhile is held (its reply's place says how far along),
the box stays usable, and every question is answered, in order, once /healthz says ready."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

import tests.ui.test_widget as base
from tests.ui.test_widget import ask, reply

browser = base.browser  # the module's Chromium and static site (another origin than the API)
site = base.site
fake = base.fake
pytestmark = [pytest.mark.browser]

EARLY = {"status": "starting", "stage": "loading the knowledge base", "progress": 0.25, "elapsed_s": 2.0}
LATER = {"status": "starting", "stage": "loading the generator", "progress": 0.75, "elapsed_s": 9.0}
READY = {"status": "ok", "intent_model": "v0001"}
NOT_YET = {  # what /v1/chat answers meanwhile (ui/http/error_shape.py)
    "status": 503,
    "json": {
        "error": {
            "code": "starting",
            "message": "The assistant is still starting; try again in a moment.",
            "stage": "loading the knowledge base",
            "progress": 0.25,
        }
    },
}


def texts(page) -> list[str]:
    """Each message of the log, as shown (the customer's without the screen reader's "You: ")."""
    return [re.sub(r"^You:\s*", "", t) for t in page.locator("lepton-chat .log .msg").all_inner_texts()]


def test_a_starting_server_says_how_far_along_and_answers_held_questions_once_ready(fake) -> None:
    page, api, open_page = fake
    api.health = [(503, EARLY)]
    open_page()
    page.locator("lepton-chat .bubble").click()
    note = page.locator("lepton-chat .notice")
    note.filter(has_text="Getting ready… loading the knowledge base (25 %)").wait_for()
    assert page.locator("lepton-chat .error").count() == 0

    api.chat.append(NOT_YET)
    ask(page, "first question")
    held = page.locator(
        "lepton-chat .msg.bot .text"
    ).last  # the greeting has no .text: this is the reply's place
    expect(held).to_have_text("Getting ready… loading the knowledge base (25 %)")
    assert note.count() == 0  # the reply's place says it now
    assert page.locator("lepton-chat .error").count() == 0
    # The box stays usable: a second question is shown at once and waits its turn.
    ask(page, "second question")
    assert page.locator("lepton-chat textarea").is_enabled()
    assert texts(page)[-2:] == ["Getting ready… loading the knowledge base (25 %)", "second question"]

    api.health = [(503, LATER)]
    expect(held).to_have_text("Getting ready… loading the generator (75 %)", timeout=10_000)
    assert [c[3]["message"] for c in api.calls("/v1/chat")] == ["first question"]  # held, not retried

    api.chat += [reply("First answer.", message_id="m1"), reply("Second answer.", message_id="m2")]
    api.health = [(200, READY)]
    page.locator("lepton-chat .msg.bot", has_text="Second answer.").locator(".fb").wait_for(timeout=10_000)
    assert texts(page)[-4:] == ["first question", "First answer.", "second question", "Second answer."]
    assert [c[3]["message"] for c in api.calls("/v1/chat")] == [
        "first question",
        "first question",
        "second question",
    ]
    assert page.locator("lepton-chat .error").count() == 0 and "Getting ready" not in " ".join(texts(page))
    assert all("authorization" not in c[2] for c in api.calls("/healthz"))
