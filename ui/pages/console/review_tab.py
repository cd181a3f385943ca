"""The console's Review queue tab: pending turns (one row per question, with why it was queued and the bot's
reply), confirmed, corrected or discarded."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ui.pages.console.review_view import ReviewView
from ui.pages.console.tab_helpers import CUSTOMER_TEXT, PRIVATE, row_value


def build_review_tab(c: ReviewView, page: gr.Blocks, header: gr.Markdown) -> None:
    """The Review queue tab and its events; a resolved item refreshes the console's `header`."""
    with gr.Tab("Review queue", id="review", elem_id="tab-review"):
        rv_counts = gr.Markdown()
        with gr.Row():
            with gr.Column(scale=3):
                rv_table = gr.Dataframe(
                    label="Pending: one row per question (click one)",
                    interactive=False,
                    wrap=True,
                    max_height=520,
                    column_widths=["6%", "27%", "20%", "27%", "6%", "5%", "9%"],
                    elem_id="rv-table",
                )
                rv_refresh = gr.Button("Refresh", size="sm", elem_id="rv-refresh")
            with gr.Column(scale=2):
                rv_id = gr.Textbox(label="Item", interactive=False, elem_id="rv-id")
                rv_item = gr.Markdown("Select an item in the table.", elem_id="rv-item", **CUSTOMER_TEXT)
                rv_intent = gr.Dropdown(
                    label="Intent", choices=[], allow_custom_value=False, elem_id="rv-intent"
                )
                rv_same = gr.Checkbox(
                    value=True, label="Also the other pending items with this text", elem_id="rv-same"
                )
                with gr.Row():
                    rv_confirm = gr.Button("Confirm predicted", variant="primary", elem_id="rv-confirm")
                    rv_correct = gr.Button("Correct to selected", elem_id="rv-correct")
                    rv_discard = gr.Button("Discard", variant="stop", elem_id="rv-discard")
                rv_result = gr.Markdown(elem_id="rv-result")

    review_out = [rv_table, rv_counts, rv_intent]
    page.load(c.review_table, None, review_out, **PRIVATE)
    rv_refresh.click(c.review_table, None, review_out, **PRIVATE)

    def pick_item(evt: gr.SelectData) -> tuple[Any, ...]:
        return c.review_pick(row_value(evt, 0))

    rv_table.select(pick_item, None, [rv_id, rv_item, rv_intent], **PRIVATE)
    for button, action in ((rv_confirm, "confirm"), (rv_correct, "correct"), (rv_discard, "discard")):
        button.click(_bind(c.review_resolve, action), [rv_id, rv_intent, rv_same], rv_result, **PRIVATE).then(
            c.review_table, None, review_out, **PRIVATE
        ).then(
            lambda: ("", "Select the next item in the table.", gr.update(value=None)),
            None,
            [rv_id, rv_item, rv_intent],
            **PRIVATE,
        ).then(c.header, None, header, **PRIVATE)


def _bind(fn: Callable[..., str], action: str) -> Callable[..., str]:
    def handler(item_id: str, intent: str | None, same_text: bool, request: gr.Request) -> str:
        return fn(item_id, intent, same_text, action, request)

    return handler
