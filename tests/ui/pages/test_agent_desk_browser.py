"""The agent's desk in real browsers against `lepton serve`: a customer asks for a person on the chat page, the
open console raises its alert (badge, sound, notification), the agent assigns the conversation to themselves,
reads the customer's context, answers from a canned reply and closes; the customer was told "waiting" once,
sees the agent's reply as the agent's (their name and face, no thumbs) and the closing message."""

from __future__ import annotations

import uuid

import pytest

from assistant import messages
from tests.ui.pages.test_admin_browser import TIMEOUT_MS, click_cell, create_admin_key, login, open_tab

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Browser notifications recorded instead of shown (headless Chromium has no notification centre).
NOTIFICATIONS = """
window.__notes = [];
window.Notification = class {
  constructor(title, options) { window.__notes.push(title + ': ' + ((options && options.body) || '')); }
  static get permission() { return 'granted'; }
  static requestPermission() { return Promise.resolve('granted'); }
};
"""
WAITING = messages.text("handoff_waiting", "en")
CLOSING = messages.text("handoff_closed", "en")


def send(page, text: str) -> None:
    page.locator("#message textarea").fill(text)
    page.locator("#send").click()


def chat_text(page) -> str:
    return page.locator("#chat").inner_text()


def check_agent_desk_flow(browser, url: str, key: str) -> None:
    tag = uuid.uuid4().hex[:6]
    admin_context = browser.new_context()
    admin_context.add_init_script(NOTIFICATIONS)
    admin = admin_context.new_page()
    login(admin, url, key)
    admin.locator("#admin-header").wait_for(timeout=TIMEOUT_MS)
    # The console has read how many wait before this customer arrives (an alert is for a new one).
    admin.wait_for_function("() => window.leptonWaiting !== undefined", timeout=TIMEOUT_MS)
    before = admin.evaluate("window.leptonWaiting")

    customer = browser.new_context().new_page()
    customer.goto(url, wait_until="domcontentloaded")
    customer.locator("#message textarea").wait_for(timeout=TIMEOUT_MS)
    send(customer, "I want to talk to a real person please")
    customer.wait_for_function(
        "() => /connecting you/i.test(document.querySelector('#chat').innerText)", timeout=120_000
    )

    # The alert: the badge counts one more, the tab title says it, a tone and a notification went out.
    admin.wait_for_function("n => window.leptonWaiting > n", arg=before, timeout=TIMEOUT_MS)
    assert admin.evaluate("window.leptonAlerts") >= 1
    assert any("waiting for a person" in n for n in admin.evaluate("window.__notes"))
    badge = admin.locator("#ag-badge")
    assert f"{before + 1}" in badge.inner_text() and "for a person" in badge.inner_text()
    assert admin.title().startswith(f"({before + 1}) ")

    # While waiting the customer is told once; later messages reach the agent with no bot reply.
    send(customer, f"my blender order KH-20481937, ticket {tag}")
    customer.wait_for_function("t => document.querySelector('#chat').innerText.includes(t)", arg=WAITING)
    send(customer, f"hello? {tag} still there")

    open_tab(admin, "Agent view")
    admin.get_by_role("button", name="Refresh").last.click()
    click_cell(admin, "ag-list", tag)
    chat = admin.locator("#ag-chat")
    chat.get_by_text(f"{tag} still there", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    status = admin.locator("#ag-status")
    status.get_by_text("KH-20481937", exact=False).wait_for(timeout=TIMEOUT_MS)
    context = status.inner_text()
    # (the language is the last message's: "hello? <random tag> still there" can read as Danish)
    assert "Language: " in context and "assigned to —" in context and "waiting" in context, context
    assert chat_text(customer).count(WAITING) == 1
    assert chat_text(customer).rstrip().endswith("still there")  # no bot bubble under it, not even "…"

    # Assign to me: the list and the context say who has it.
    admin.locator("#ag-mine").click()
    status.get_by_text("assigned to alice", exact=False).wait_for(timeout=TIMEOUT_MS)
    admin.locator("#ag-list .body-cell", has_text="alice").first.wait_for(timeout=TIMEOUT_MS)

    # A canned reply, picked, edited, sent.
    admin.locator("#ag-canned input").click()
    admin.get_by_role("option", name="order status and tracking (tpl-order-status-en)").click(
        timeout=TIMEOUT_MS
    )
    box = admin.locator("#ag-text textarea")
    admin.wait_for_function(
        "() => document.querySelector('#ag-text textarea').value.length > 20", timeout=TIMEOUT_MS
    )
    canned = box.input_value()
    assert "KH-20481937" in canned and "{order_id}" not in canned, canned  # the order number mentioned
    box.fill(f"{canned}\n\nTicket {tag} is with me now.")
    admin.locator("#ag-send").click()
    chat.get_by_text(f"Ticket {tag} is with me now", exact=False).first.wait_for(timeout=TIMEOUT_MS)

    # The customer sees it as the agent's: their name, a bubble of its own, no thumbs.
    customer.wait_for_function(
        "t => document.querySelector('#chat').innerText.includes(t)",
        arg=f"Ticket {tag} is with me now",
        timeout=30_000,
    )
    assert "alice · Support agent" in chat_text(customer)
    # ...and their face: the initial on the brand's colour, the customer's bubbles' (no brand avatar here: the face
    # leads the label).
    face = customer.locator("#chat .lepton-agent .lepton-face").first
    assert face.inner_text() == "A" and face.is_visible()
    brand = customer.locator("#chat .user").first.evaluate("b => getComputedStyle(b).backgroundColor")
    assert face.evaluate("f => getComputedStyle(f).backgroundColor") == brand
    thumbs = customer.evaluate(
        """() => [...document.querySelectorAll('#chat .message-row')]
              .filter(r => r.querySelector('.lepton-agent'))
              .map(r => [...r.querySelectorAll('.message-buttons button')].filter(b => b.offsetParent).length)"""
    )
    assert thumbs and all(n == 0 for n in thumbs), thumbs

    # Closing: the customer gets the closing message; the bot answers again afterwards.
    admin.locator("#ag-close").click()
    status.get_by_text("closed", exact=False).wait_for(timeout=TIMEOUT_MS)
    customer.wait_for_function(
        "t => document.querySelector('#chat').innerText.includes(t)", arg=CLOSING, timeout=30_000
    )
    assert chat_text(customer).count(WAITING) == 1
    admin_context.close()
    customer.context.close()


@pytest.fixture(scope="module")
def admin_key(server) -> str:
    return create_admin_key(server.home)


def test_handoff_alert_assign_canned_reply_and_close(server, browser, admin_key) -> None:
    check_agent_desk_flow(browser, server.url, admin_key)
