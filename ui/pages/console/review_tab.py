"""The console's Review queue tab: pending turns (one row per question, with why it was queued and the bot's
reply), and fixing the answer in one click: fine, use this (existing) answer, write the right answer (a draft
template or article, published in the Knowledge base tab), or discard."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

from typing import Any

import gradio as gr

from ui.pages.console.review_view import SNIPPET, ReviewView
from ui.pages.console.tab_helpers import CUSTOMER_TEXT, PRIVATE, row_value

TEMPLATE = "Answer template"


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
                rv_same = gr.Checkbox(
                    value=True, label="Also the other pending items with this text", elem_id="rv-same"
                )
                with gr.Row():
                    rv_fine = gr.Button("Fine", variant="primary", elem_id="rv-confirm")
                    rv_discard = gr.Button("Discard", variant="stop", elem_id="rv-discard")
                rv_intent = gr.Dropdown(
                    label="The right answer: an existing intent (the bot's guess is picked)",
                    choices=[],
                    allow_custom_value=False,
                    elem_id="rv-intent",
                )
                rv_use = gr.Button("Use this answer", elem_id="rv-correct")
                with gr.Group(elem_id="rv-write-box"):
                    rv_answer = gr.Textbox(
                        label="Write the right answer, as the customer should read it",
                        lines=4,
                        max_length=4000,
                        elem_id="rv-answer",
                    )
                    with gr.Row():
                        rv_lang = gr.Dropdown(label="Written in", choices=[], elem_id="rv-lang")
                        rv_new = gr.Textbox(
                            label="For a new intent (else the one picked above)",
                            placeholder="e.g. student_discount",
                            max_length=120,
                            elem_id="rv-new-intent",
                        )
                    rv_kind = gr.Radio(
                        [TEMPLATE, SNIPPET], value=TEMPLATE, label="Save it as", elem_id="rv-kind"
                    )
                    rv_write = gr.Button("Write the right answer", variant="primary", elem_id="rv-write")
                gr.Markdown(
                    "A written answer is a **draft**: publish it in the *Knowledge base* tab to make it live. "
                    "The other languages get a draft that waits for its translation.",
                    elem_id="rv-write-hint",
                )
                rv_result = gr.Markdown(elem_id="rv-result")

    review_out = [rv_table, rv_counts, rv_intent, rv_lang]
    page.load(c.review_table, None, review_out, **PRIVATE)
    rv_refresh.click(c.review_table, None, review_out, **PRIVATE)

    def pick_item(evt: gr.SelectData) -> tuple[Any, ...]:
        return c.review_pick(row_value(evt, 0))

    rv_table.select(pick_item, None, [rv_id, rv_item, rv_intent, rv_lang], **PRIVATE)
    actions = (
        (rv_fine, c.review_fine, [rv_id, rv_same]),
        (rv_discard, c.review_discard, [rv_id, rv_same]),
        (rv_use, c.review_use, [rv_id, rv_intent, rv_same]),
        (rv_write, c.review_write, [rv_id, rv_answer, rv_intent, rv_new, rv_lang, rv_kind, rv_same]),
    )
    for button, handler, inputs in actions:
        button.click(handler, inputs, rv_result, **PRIVATE).success(
            c.review_table, None, review_out, **PRIVATE
        ).then(
            lambda: ("", "Select the next item in the table.", gr.update(value=None), "", ""),
            None,
            [rv_id, rv_item, rv_intent, rv_answer, rv_new],
            **PRIVATE,
        ).then(c.header, None, header, **PRIVATE)
