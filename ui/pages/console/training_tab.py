"""The console's Training tab: intent model versions in plain words (a retrain's progress bar and time left,
each version's verdict), the ML metrics one click away (compare, promote, roll back), and the generator's
adapters."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

import gradio as gr

from ui.pages.console.tab_helpers import PRIVATE
from ui.pages.console.training_view import TrainingView

PROGRESS_POLL_S = 2.0  # how often the tab asks for a running retrain's progress


def build_training_tab(c: TrainingView, page: gr.Blocks) -> None:
    """The Training tab and its events."""
    with gr.Tab("Training", id="training", elem_id="tab-training"):
        with gr.Row():
            tr_retrain = gr.Button("Retrain now", variant="primary", scale=0, elem_id="tr-retrain")
            tr_verdict = gr.Markdown(elem_id="tr-verdict")
        tr_progress = gr.HTML(elem_id="tr-progress")
        tr_versions = gr.Dataframe(
            label="Intent model versions (newest first)",
            interactive=False,
            wrap=True,
            column_widths=["8%", "7%", "13%", "10%", "8%", "54%"],
            elem_id="tr-versions",
        )
        with gr.Row():
            tr_pick = gr.Dropdown(label="Version", choices=[], scale=1)
            tr_promote = gr.Button("Promote", scale=1)
            tr_rollback = gr.Button("Roll back to previous", variant="stop", scale=1)
            tr_refresh = gr.Button("Refresh", size="sm", scale=0)
        tr_status = gr.Markdown(elem_id="tr-status")
        with gr.Accordion(
            "ML details: macro-F1, out-of-scope recall, held-out set", open=False, elem_id="tr-details"
        ):
            tr_table = gr.Dataframe(label="Metrics per version", interactive=False, elem_id="tr-table")
            with gr.Row():
                tr_plot = gr.Plot(label="Held-out metrics per version", elem_id="tr-plot")
                with gr.Column():
                    with gr.Row():
                        tr_a = gr.Dropdown(label="Compare A", choices=[])
                        tr_b = gr.Dropdown(label="with B", choices=[])
                    tr_compare = gr.Dataframe(interactive=False, elem_id="tr-compare")
        ga_table = gr.Dataframe(
            label="Generator adapters (lepton train generator)", interactive=False, elem_id="ga-table"
        )
        with gr.Row():
            ga_pick = gr.Dropdown(label="Adapter", choices=[], scale=1, elem_id="ga-pick")
            ga_promote = gr.Button("Promote adapter", scale=1, elem_id="ga-promote")
            ga_rollback = gr.Button("Roll back adapter", variant="stop", scale=1, elem_id="ga-rollback")
        ga_status = gr.Markdown(elem_id="ga-status")
        tr_timer = gr.Timer(PROGRESS_POLL_S)
        tr_seen = gr.State("")  # the latest job's id and status: when it changes, the versions reload

    training_out = [tr_versions, tr_table, tr_plot, tr_a, tr_b, tr_pick, tr_verdict]
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
    progress_out = [tr_progress, tr_verdict, tr_seen]
    tr_retrain.click(c.retrain, None, tr_verdict, **PRIVATE).then(
        c.retrain_progress, None, progress_out, show_progress="hidden", **PRIVATE
    )

    def tick() -> tuple[object, ...]:
        if not c.assistant.ready:
            return gr.skip(), gr.skip(), gr.skip()
        return c.retrain_progress()

    tr_timer.tick(tick, None, progress_out, show_progress="hidden", **PRIVATE)
    tr_seen.change(c.training_view, None, training_out, show_progress="hidden", **PRIVATE)
    adapters_out = [ga_table, ga_pick, ga_status]
    page.load(c.adapters_view, None, adapters_out, **PRIVATE)
    tr_refresh.click(c.adapters_view, None, adapters_out, **PRIVATE)
    ga_promote.click(c.promote_adapter, [ga_pick], ga_status, **PRIVATE).then(
        c.adapters_table, None, [ga_table, ga_pick], **PRIVATE
    )
    ga_rollback.click(c.rollback_adapter, None, ga_status, **PRIVATE).then(
        c.adapters_table, None, [ga_table, ga_pick], **PRIVATE
    )
