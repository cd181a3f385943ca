"""The console's Agent view tab: handed-off sessions (who has each, how long it waits), the customer's context,
assign, canned replies, reply, close; polled every 5 s. And the header's alert: a badge with the number
waiting, a sound and a browser notification when a new one arrives while the console is open."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

from typing import Any

import gradio as gr

from ui.pages.console.agent_view import HANDOFF_COLUMNS, AgentView
from ui.pages.console.tab_helpers import CUSTOMER_TEXT, PRIVATE, row_value

ALERT_POLL_S = 5
# Runs in the browser after each reading of the number waiting: the tab title shows it; a rise (not the first reading)
# beeps and, where the agent allowed it, raises a browser notification.
ALERT_JS = """
(n) => {
  if (n === null || n === undefined) return;
  const prev = window.leptonWaiting;
  window.leptonWaiting = n;
  document.title = (n > 0 ? '(' + n + ') ' : '') + document.title.replace(/^\\(\\d+\\) /, '');
  if (prev === undefined || n <= prev) return;
  window.leptonAlerts = (window.leptonAlerts || 0) + 1;
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const tone = ctx.createOscillator(), gain = ctx.createGain();
    tone.frequency.value = 880; gain.gain.value = 0.08;
    tone.connect(gain); gain.connect(ctx.destination);
    tone.start(); tone.stop(ctx.currentTime + 0.25);
  } catch (e) {}
  try {
    if ('Notification' in window && Notification.permission === 'granted') {
      new Notification('Lepton: a customer is waiting', {body: n + ' waiting for a person', tag: 'lepton-handoff'});
    }
  } catch (e) {}
}
"""
ALLOW_JS = "() => { if ('Notification' in window) Notification.requestPermission(); }"


def build_handoff_alert(c: AgentView) -> None:
    """The header's badge (how many wait for a person) and its alert; place it in the header row."""
    badge = gr.HTML(elem_id="ag-badge")
    count = gr.Number(value=None, visible="hidden", elem_id="ag-waiting", precision=0)
    allow = gr.Button("Desktop alerts", size="sm", scale=0, variant="secondary", elem_id="ag-allow")
    timer = gr.Timer(ALERT_POLL_S)
    # After every reading (not on `change`: a hidden number's first value raises none).
    timer.tick(c.waiting, None, [badge, count], show_progress="hidden", **PRIVATE).then(
        None, [count], None, js=ALERT_JS, show_progress="hidden", **PRIVATE
    )
    allow.click(None, None, None, js=ALLOW_JS, **PRIVATE)


def build_agent_tab(c: AgentView, page: gr.Blocks) -> None:
    """The Agent view tab and its events."""
    with gr.Tab("Agent view", id="agent", elem_id="tab-agent"):
        ag_session = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                ag_list = gr.Dataframe(
                    label="Waiting for a person (click one)",
                    interactive=False,
                    wrap=True,
                    elem_id="ag-list",
                )
                ag_refresh = gr.Button("Refresh", size="sm")
            with gr.Column(scale=3):
                ag_status = gr.Markdown("Select a session on the left.", elem_id="ag-status", **CUSTOMER_TEXT)
                with gr.Row():
                    ag_mine = gr.Button("Assign to me", size="sm", scale=1, elem_id="ag-mine")
                    ag_agent = gr.Textbox(
                        placeholder="or another agent's name", show_label=False, scale=2, elem_id="ag-agent"
                    )
                    ag_assign = gr.Button("Assign", size="sm", scale=1, elem_id="ag-assign")
                ag_chat = gr.Chatbot(
                    label="Conversation",
                    show_label=False,  # Gradio's floating label covers the first message
                    buttons=["copy"],  # no share or clear on a customer's conversation
                    height=420,
                    elem_id="ag-chat",
                    feedback_options=None,
                    allow_tags=False,
                    **CUSTOMER_TEXT,
                )
                ag_canned = gr.Dropdown(
                    label="Canned reply (in the customer's language; edit before sending)",
                    choices=[],
                    elem_id="ag-canned",
                )
                with gr.Row():
                    ag_text = gr.Textbox(
                        placeholder="Reply to the customer…",
                        show_label=False,
                        scale=6,
                        lines=2,
                        max_length=4000,
                        elem_id="ag-text",
                    )
                    ag_send = gr.Button("Send reply", variant="primary", scale=1, elem_id="ag-send")
                    ag_close = gr.Button(
                        "Close (back to the bot)", variant="stop", scale=1, elem_id="ag-close"
                    )
        ag_timer = gr.Timer(5)

    page.load(c.handoffs, None, ag_list, **PRIVATE)
    ag_refresh.click(c.handoffs, None, ag_list, **PRIVATE)

    def pick_session(evt: gr.SelectData) -> tuple[Any, ...]:
        sid = row_value(evt, HANDOFF_COLUMNS.index("session"))
        chat, status = c.conversation(sid)
        return sid, chat, status, c.canned_choices(sid)

    ag_list.select(pick_session, None, [ag_session, ag_chat, ag_status, ag_canned], **PRIVATE)
    ag_canned.input(c.canned_text, [ag_session, ag_canned], ag_text, **PRIVATE)

    def assign_me(session_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        return c.assign(session_id, None, request)

    ag_mine.click(assign_me, [ag_session], [ag_chat, ag_status], **PRIVATE).then(
        c.handoffs, None, ag_list, **PRIVATE
    )
    for trigger in (ag_assign.click, ag_agent.submit):
        trigger(c.assign, [ag_session, ag_agent], [ag_chat, ag_status], **PRIVATE).then(
            c.handoffs, None, ag_list, **PRIVATE
        )
    for trigger in (ag_send.click, ag_text.submit):
        trigger(c.agent_send, [ag_session, ag_text], [ag_text, ag_chat, ag_status], **PRIVATE)
    ag_close.click(c.agent_close, [ag_session], [ag_chat, ag_status], **PRIVATE).then(
        c.handoffs, None, ag_list, **PRIVATE
    )

    def tick(session_id: str | None) -> tuple[Any, ...]:
        if not c.assistant.ready:
            return gr.skip(), gr.skip(), gr.skip()
        chat, status = c.conversation(session_id) if session_id else (gr.skip(), gr.skip())
        return c.handoffs(), chat, status

    ag_timer.tick(tick, [ag_session], [ag_list, ag_chat, ag_status], show_progress="hidden", **PRIVATE)
