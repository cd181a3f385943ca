"""The console's Training tab: intent model versions (compare, promote, roll back, retrain) and the
generator's adapters."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

import gradio as gr

from ui.pages.console.tab_helpers import PRIVATE
from ui.pages.console.training_view import TrainingView


def build_training_tab(c: TrainingView, page: gr.Blocks) -> None:
    """The Training tab and its events."""
    with gr.Tab("Training", id="training", elem_id="tab-training"):
        tr_table = gr.Dataframe(label="Intent model versions", interactive=False, elem_id="tr-table")
        with gr.Row():
            tr_plot = gr.Plot(label="Held-out metrics per version", elem_id="tr-plot")
            with gr.Column():
                with gr.Row():
                    tr_a = gr.Dropdown(label="Compare A", choices=[])
                    tr_b = gr.Dropdown(label="with B", choices=[])
                tr_compare = gr.Dataframe(interactive=False, elem_id="tr-compare")
        with gr.Row():
            tr_pick = gr.Dropdown(label="Version", choices=[], scale=1)
            tr_promote = gr.Button("Promote", variant="primary", scale=1)
            tr_rollback = gr.Button("Roll back to previous", variant="stop", scale=1)
            tr_retrain = gr.Button("Retrain now", scale=1, elem_id="tr-retrain")
            tr_refresh = gr.Button("Refresh", size="sm", scale=0)
        tr_status = gr.Markdown()
        ga_table = gr.Dataframe(
            label="Generator adapters (lepton train generator)", interactive=False, elem_id="ga-table"
        )
        with gr.Row():
            ga_pick = gr.Dropdown(label="Adapter", choices=[], scale=1, elem_id="ga-pick")
            ga_promote = gr.Button("Promote adapter", scale=1, elem_id="ga-promote")
            ga_rollback = gr.Button("Roll back adapter", variant="stop", scale=1, elem_id="ga-rollback")
        ga_status = gr.Markdown(elem_id="ga-status")

    training_out = [tr_table, tr_plot, tr_a, tr_b, tr_pick, tr_status]
    page.load(c.training_view, None, training_out, **PRIVATE)
    tr_refresh.click(c.training_view, None, training_out, **PRIVATE)
    tr_a.change(c.compare, [tr_a, tr_b], tr_compare, **PRIVATE)
    tr_b.change(c.compare, [tr_a, tr_b], tr_compare, **PRIVATE)
    tr_promote.click(c.promote, [tr_pick], tr_status, **PRIVATE).then(
        c.training_view, None, training_out, **PRIVATE
    )
    tr_rollback.click(c.rollback_model, None, tr_status, **PRIVATE).then(
        c.training_view, None, training_out, **PRIVATE
    )
    tr_retrain.click(c.retrain, None, tr_status, **PRIVATE)
    adapters_out = [ga_table, ga_pick, ga_status]
    page.load(c.adapters_view, None, adapters_out, **PRIVATE)
    tr_refresh.click(c.adapters_view, None, adapters_out, **PRIVATE)
    ga_promote.click(c.promote_adapter, [ga_pick], ga_status, **PRIVATE).then(
        c.adapters_table, None, [ga_table, ga_pick], **PRIVATE
    )
    ga_rollback.click(c.rollback_adapter, None, ga_status, **PRIVATE).then(
        c.adapters_table, None, [ga_table, ga_pick], **PRIVATE
    )
