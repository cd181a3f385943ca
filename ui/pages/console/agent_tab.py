"""The console's Agent view tab: handed-off sessions (read, reply, close), polled every 5 s."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

from typing import Any

import gradio as gr

from ui.pages.console.agent_view import HANDOFF_COLUMNS, AgentView
from ui.pages.console.tab_helpers import CUSTOMER_TEXT, PRIVATE, row_value


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
                ag_chat = gr.Chatbot(
                    label="Conversation",
                    height=420,
                    elem_id="ag-chat",
                    feedback_options=None,
                    allow_tags=False,
                    **CUSTOMER_TEXT,
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
        return sid, chat, status

    ag_list.select(pick_session, None, [ag_session, ag_chat, ag_status], **PRIVATE)
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
