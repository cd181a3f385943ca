"""The console's Analytics tab: KPIs and charts over a time window, and the top unanswered questions."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

import gradio as gr

from ui.pages.console.analytics_view import WINDOWS, AnalyticsView
from ui.pages.console.tab_helpers import PRIVATE


def build_analytics_tab(c: AnalyticsView, page: gr.Blocks) -> gr.Dataframe:
    """The Analytics tab and its events; returns the unanswered-questions table (a click opens the turn's
    trace, wired by the layout once the Trace tab exists)."""
    with gr.Tab("Analytics", id="analytics", elem_id="tab-analytics"):
        with gr.Row():
            an_window = gr.Dropdown(list(WINDOWS), value="Last 30 days", label="Window", scale=1)
            an_refresh = gr.Button("Refresh", scale=0, size="sm")
        an_kpis = gr.HTML(elem_id="an-kpis")
        with gr.Row():
            an_per_day = gr.BarPlot(
                x="day",
                y="conversations",
                title="Conversations per day",
                height=280,
                y_lim=[0, None],
                elem_id="an-per-day",
            )
            an_routes = gr.BarPlot(
                x="route", y="turns", title="Turns by route", height=280, sort="-y", y_lim=[0, None]
            )
        with gr.Row():
            an_intents = gr.BarPlot(
                x="intent",
                y="turns",
                title="Top intents",
                height=300,
                sort="-y",
                x_label_angle=-35,
                y_lim=[0, None],
            )
            an_feedback = gr.BarPlot(
                x="rating",
                y="turns",
                title="Thumbs up / down",
                height=300,
                color="rating",
                color_map={"thumbs up": "#22c55e", "thumbs down": "#ef4444"},
                y_lim=[0, None],
            )
        with gr.Row():
            an_latency_plot = gr.BarPlot(
                x="bar",
                y="ms",
                color="stat",
                title="Latency per route (ms)",
                height=300,
                x_label_angle=-35,
                sort=None,
                y_lim=[0, None],
            )
            an_latency = gr.Dataframe(label="Latency per route", interactive=False)
        an_unanswered = gr.Dataframe(
            label="Top unanswered questions (fallback) — click one to trace it",
            interactive=False,
            wrap=True,
            elem_id="an-unanswered",
        )

    an_out = [
        an_kpis,
        an_per_day,
        an_routes,
        an_intents,
        an_unanswered,
        an_latency_plot,
        an_latency,
        an_feedback,
    ]
    page.load(c.analytics_view, [an_window], an_out, **PRIVATE)
    an_window.change(c.analytics_view, [an_window], an_out, **PRIVATE)
    an_refresh.click(c.analytics_view, [an_window], an_out, **PRIVATE)

    return an_unanswered
