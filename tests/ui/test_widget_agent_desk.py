"""The widget during a handoff, on a routed fake API: a message the bot does not answer (an empty reply: the
customer was told once) leaves no bubble; the agent's closing message is what the customer sees at the end; an
agent's message shows their face (their picture, else their initial)."""

from __future__ import annotations

import pytest

import tests.ui.test_widget as base
from tests.ui.test_widget import ask, reply, shadow

browser = base.browser  # the module's Chromium and static site (another origin than the API)
site = base.site
fake = base.fake
pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_message_with_no_reply_leaves_no_bubble_and_the_close_is_the_agents_message(fake) -> None:
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    api.chat.append(reply("Let me connect you with a colleague.", route="handoff", message_id="t1"))
    ask(page, "I want a human")
    page.locator("lepton-chat .notice", has_text="connected to a person").wait_for()
    api.chat.append(
        reply("Your conversation is with our support team now.", route="handoff", message_id="t2")
    )
    ask(page, "hello?")
    page.locator("lepton-chat .msg.bot", has_text="support team now").wait_for()
    api.chat.append(reply("", route="handoff", message_id="t3", tokens=[]))
    with page.expect_response("**/v1/chat"):
        ask(page, "anyone?")
    # The turn is over (the log is no longer busy): the greeting and the two replies, no empty bubble.
    page.wait_for_function(
        "() => !document.querySelector('lepton-chat').shadowRoot.querySelector('.log').hasAttribute('aria-busy')"
    )
    bots = page.locator("lepton-chat .msg.bot").all_inner_texts()
    assert len(bots) == 3 and "support team now" in bots[-1], bots
    assert page.locator("lepton-chat .msg.user").last.inner_text().endswith("anyone?")
    assert page.locator("lepton-chat .error").count() == 0

    closing = "Thank you for chatting with us. This conversation with our support team is now closed."
    api.session = {
        "session_id": "s1",
        "status": "closed",
        "turns": [],
        "messages": [
            {"id": "a1", "role": "agent", "agent": "Dana", "text": "Sorted, see you!", "created_at": 2},
            {"id": "a2", "role": "agent", "agent": "Dana", "text": closing, "created_at": 3},
        ],
    }
    page.locator("lepton-chat .msg.agent", has_text="now closed").wait_for(timeout=15_000)
    assert page.locator("lepton-chat .msg.agent .who").all_inner_texts() == ["Dana", "Dana"]
    # The server's message is the notice: no second one of the widget's own.
    assert page.locator("lepton-chat .notice").count() == 1
    polls = len(api.calls("/v1/sessions/"))
    page.wait_for_timeout(4000)
    assert len(api.calls("/v1/sessions/")) == polls  # closed: no more polling
    assert shadow(page, "root.querySelectorAll('.msg.bot').length") == 3


RED_DOT = (
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxMCAxMCI+"
    "PGNpcmNsZSBjeD0iNSIgY3k9IjUiIHI9IjUiIGZpbGw9InJlZCIvPjwvc3ZnPg=="
)


def test_an_agents_message_shows_their_face_the_bots_none(fake) -> None:
    """Issue #20 item 2: the agent's picture from the server (`avatar`), else their initial on the accent; a
    picture that fails to load, or is not http(s) / data:image, becomes the initial too."""
    page, api, open_page = fake
    open_page()
    page.locator("lepton-chat .bubble").click()
    api.chat.append(reply("Let me connect you with a colleague.", route="handoff", message_id="t1"))
    ask(page, "I want a human")
    page.locator("lepton-chat .notice", has_text="connected to a person").wait_for()
    api.session = {
        "session_id": "s1",
        "status": "handoff",
        "turns": [],
        "messages": [
            {"id": "a1", "role": "agent", "agent": "Dana", "avatar": RED_DOT, "text": "Hi!", "created_at": 2},
            {
                "id": "a2",
                "role": "agent",
                "agent": "sam",
                "avatar": None,
                "text": "Sam here.",
                "created_at": 3,
            },
            {"id": "a3", "role": "agent", "agent": "agent", "text": "Unnamed.", "created_at": 4},
            {
                "id": "a4",
                "role": "agent",
                "agent": "Émile",
                "avatar": "data:image/png;base64,AAAA",
                "text": "E",
                "created_at": 5,
            },
            {
                "id": "a5",
                "role": "agent",
                "agent": "Li",
                "avatar": "javascript:alert(1)",
                "text": "Li",
                "created_at": 6,
            },
        ],
    }
    agents = page.locator("lepton-chat .msg.agent")
    agents.nth(4).wait_for(timeout=15_000)
    picture = agents.nth(0).locator(".byline img.face")
    assert picture.get_attribute("src") == RED_DOT and picture.get_attribute("alt") == ""
    page.wait_for_function(  # the broken picture gave way to the initial
        "() => !document.querySelector('lepton-chat').shadowRoot.querySelector('.msg.agent:nth-last-child(2) img')"
    )
    faces = [agents.nth(i).locator(".byline .face").inner_text() for i in range(1, 5)]
    assert faces == ["S", "A", "É", "L"], faces  # "agent" is no name: the initial of "Agent"
    assert agents.locator(".byline .who").all_inner_texts() == ["Dana", "sam", "Agent", "Émile", "Li"]
    badge = agents.nth(1).locator(".face")
    assert badge.get_attribute("aria-hidden") == "true"
    accent, ink = "rgb(43, 89, 195)", "rgb(255, 255, 255)"
    assert badge.evaluate("b => getComputedStyle(b).backgroundColor") == accent
    assert badge.evaluate("b => getComputedStyle(b).color") == ink
    # The bot's replies carry no face: the two are told apart at a glance.
    assert page.locator("lepton-chat .msg.bot .face").count() == 0
    assert page.evaluate("window.__pwned") is None
