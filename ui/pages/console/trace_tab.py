"""The console's Trace tab: recent turns by route, and one turn's trace (ranking, passages, stage times)."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from ui.pages.console.tab_helpers import CUSTOMER_TEXT, PRIVATE, row_value
from ui.pages.console.trace_view import TURN_COLUMNS, TraceView


@dataclass
class TracePanel:
    """The Trace tab's turn-id box and the components that show one turn's trace."""

    view: TraceView
    turn_id: gr.Textbox
    outputs: list[Any]

    def open_from(self, table: gr.Dataframe, column: int, tabs: gr.Tabs) -> None:
        """A click on a row of `table` (turn id in `column`) switches to the Trace tab and shows that turn."""
        c = self.view

        def pick_unanswered(evt: gr.SelectData) -> tuple[Any, ...]:
            turn_id = row_value(evt, column)
            return (gr.Tabs(selected="trace"), turn_id, *c.trace(turn_id))

        table.select(pick_unanswered, None, [tabs, self.turn_id, *self.outputs], **PRIVATE)


def build_trace_tab(c: TraceView, page: gr.Blocks) -> TracePanel:
    """The Trace tab and its events; returns its panel so that other tabs can open a turn in it."""
    with gr.Tab("Trace", id="trace", elem_id="tab-trace") as trace_tab, gr.Row():
        with gr.Column(scale=2):
            with gr.Row():
                tc_route = gr.Dropdown(
                    ["all", "template", "rag", "clarify", "smalltalk", "fallback", "handoff"],
                    value="all",
                    label="Route",
                    scale=2,
                )
                tc_refresh = gr.Button("Refresh", size="sm", scale=1)
            tc_turns = gr.Dataframe(
                label="Recent turns (click one)",
                interactive=False,
                wrap=False,
                max_height=560,
                elem_id="tc-turns",
                column_widths=["40%", "17%", "11%", "20%", "12%"],
            )
        with gr.Column(scale=3):
            with gr.Row():
                tc_id = gr.Textbox(
                    label="Turn id", placeholder="paste a message_id", scale=4, elem_id="tc-id"
                )
                tc_go = gr.Button("Show trace", variant="primary", scale=1, elem_id="tc-go")
            tc_summary = gr.Markdown(elem_id="tc-summary", elem_classes="trace-box", **CUSTOMER_TEXT)
            with gr.Row():
                tc_ranking = gr.BarPlot(
                    x="intent",
                    y="score",
                    title="Intent ranking",
                    height=280,
                    sort="-y",
                    y_lim=[0, 1],
                    x_label_angle=-30,
                )
                tc_stages = gr.BarPlot(
                    x="stage",
                    y="ms",
                    title="Time per stage (ms)",
                    height=280,
                    sort=None,
                    x_label_angle=-30,
                    y_lim=[0, None],
                )
            tc_passages = gr.Dataframe(
                pd.DataFrame(columns=["score", "kind", "title", "language", "id"]),
                label="Retrieved passages",
                interactive=False,
                wrap=True,
            )
            with gr.Accordion("Raw trace JSON", open=False):
                tc_json = gr.JSON()

    trace_out = [tc_summary, tc_ranking, tc_passages, tc_stages, tc_json]
    page.load(c.recent_turns, [tc_route], tc_turns, **PRIVATE)
    tc_route.change(c.recent_turns, [tc_route], tc_turns, **PRIVATE)
    tc_refresh.click(c.recent_turns, [tc_route], tc_turns, **PRIVATE)
    trace_tab.select(c.recent_turns, [tc_route], tc_turns, **PRIVATE)
    for trigger in (tc_go.click, tc_id.submit):
        trigger(c.trace, [tc_id], trace_out, **PRIVATE)

    def pick_turn(evt: gr.SelectData) -> tuple[Any, ...]:
        turn_id = row_value(evt, TURN_COLUMNS.index("turn id"))
        return (turn_id, *c.trace(turn_id))

    tc_turns.select(pick_turn, None, [tc_id, *trace_out], **PRIVATE)

    return TracePanel(c, tc_id, trace_out)
