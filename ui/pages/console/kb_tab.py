"""The console's Knowledge base tab: browse and edit as draft (with the item's other-language twins and their
"needs update" marks), publish, versions and roll back, search, upload, audit log."""

# ruff: noqa: SIM117  (nested `with` blocks mirror the page layout)
from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.operations.curation_ops import DOCUMENT, TEMPLATE
from ui.pages.console.kb_view import KbView
from ui.pages.console.tab_helpers import PRIVATE, row_value


def build_kb_tab(c: KbView, page: gr.Blocks, header: gr.Markdown) -> None:
    """The Knowledge base tab and its events; edits refresh the console's `header`."""
    with gr.Tab("Knowledge base", id="kb", elem_id="tab-kb"):
        with gr.Tabs():
            with gr.Tab("Browse & edit", elem_id="kb-edit-tab"):
                with gr.Row():
                    with gr.Column(scale=2):
                        kb_kind = gr.Radio(
                            [("Templates", TEMPLATE), ("Documents", DOCUMENT)],
                            value=TEMPLATE,
                            label="Show",
                            elem_id="kb-kind",
                        )
                        kb_filter = gr.Textbox(
                            label="Filter",
                            placeholder="id, title, intent, language…",
                            elem_id="kb-filter",
                        )
                        kb_list = gr.Dataframe(
                            label="Items (click one to edit)",
                            interactive=False,
                            max_height=520,
                            elem_id="kb-list",
                            wrap=True,
                        )
                    with gr.Column(scale=3):
                        kb_id = gr.Textbox(label="Item id", elem_id="kb-id")
                        kb_state = gr.Markdown("Pick an item in the list.", elem_id="kb-state")
                        kb_title = gr.Textbox(label="Title", elem_id="kb-title")
                        kb_body = gr.Textbox(
                            label="Text (Markdown; templates may use {order_id})",
                            lines=12,
                            max_lines=30,
                            elem_id="kb-body",
                        )
                        with gr.Row():
                            kb_save = gr.Button("Save draft", elem_id="kb-save")
                            kb_publish = gr.Button("Publish draft", variant="primary", elem_id="kb-publish")
                            kb_discard = gr.Button(
                                "Discard all draft changes", variant="secondary", elem_id="kb-discard"
                            )
                        kb_result = gr.Markdown(elem_id="kb-result")
                        kb_twins = gr.Markdown(elem_id="kb-twins")
                        with gr.Row(visible=False, elem_id="kb-confirm-row") as kb_confirm_row:
                            kb_confirm_pick = gr.Dropdown(
                                label="Needs update, but still right as it is?",
                                choices=[],
                                scale=3,
                                elem_id="kb-confirm-pick",
                            )
                            kb_confirm = gr.Button(
                                "Confirm still right", variant="secondary", scale=1, elem_id="kb-confirm"
                            )
                        gr.Markdown(
                            "Edits go to one draft of the whole knowledge base; **Publish draft** makes "
                            "every pending change live as a new version (see *Versions*). Editing an item "
                            "marks its twins in other languages *needs update* until they are edited too "
                            "or confirmed still right.",
                            elem_classes="hint",
                        )
            with gr.Tab("Versions", elem_id="kb-versions-tab"):
                kb_changes = gr.Dataframe(
                    pd.DataFrame(columns=["change", "kind", "title", "uri", "id"]),
                    label="Unpublished draft changes",
                    interactive=False,
                    wrap=True,
                    elem_id="kb-changes",
                )
                kb_versions = gr.Dataframe(
                    label="Published versions (newest first)",
                    interactive=False,
                    elem_id="kb-versions",
                )
                with gr.Row():
                    kb_back_to = gr.Dropdown(
                        label="Make this version live again",
                        choices=[],
                        scale=3,
                        elem_id="kb-back-to",
                    )
                    kb_rollback = gr.Button("Roll back", variant="stop", scale=1, elem_id="kb-rollback")
                    kb_versions_refresh = gr.Button("Refresh", size="sm", scale=0)
                kb_rollback_result = gr.Markdown(elem_id="kb-rollback-result")
            with gr.Tab("Search", elem_id="kb-search-tab"):
                with gr.Row():
                    kb_q = gr.Textbox(
                        label="Query",
                        placeholder="e.g. how long do refunds take / 退货运费",
                        scale=4,
                        elem_id="kb-q",
                    )
                    kb_lang = gr.Dropdown(["any", "en", "zh"], value="any", label="Language", scale=1)
                    kb_kinds = gr.Dropdown(
                        ["All", "Documents", "Templates"], value="All", label="Kind", scale=1
                    )
                    kb_go = gr.Button("Search", variant="primary", scale=1, elem_id="kb-go")
                kb_hits = gr.Dataframe(
                    label="Hits (fused score, best first)",
                    interactive=False,
                    wrap=True,
                    elem_id="kb-hits",
                )
            with gr.Tab("Upload", elem_id="kb-upload-tab"):
                gr.Markdown(
                    "Add or update articles (`.md .txt .html .pdf .docx`) and answer templates "
                    "(`templates*.yaml|csv|json`). A file with the same name replaces its earlier upload."
                )
                kb_files = gr.File(file_count="multiple", label="Files", elem_id="kb-files")
                with gr.Row():
                    kb_publish_upload = gr.Checkbox(
                        value=True, label="Publish right away (else: into the draft)"
                    )
                    kb_ingest = gr.Button("Ingest", variant="primary", elem_id="kb-ingest")
                kb_report = gr.Markdown()
            with gr.Tab("Audit log", elem_id="kb-audit-tab"):
                kb_audit_refresh = gr.Button("Refresh", size="sm", elem_id="kb-audit-refresh")
                kb_audit = gr.Dataframe(interactive=False, wrap=True, elem_id="kb-audit")

    def kb_list_fn(kind: str, q: str) -> pd.DataFrame:
        return c.kb_items(kind, q)

    def kb_select(kind: str, evt: gr.SelectData) -> tuple[Any, ...]:
        target = row_value(evt, 0)
        return (target, *c.kb_open(kind, target))

    kb_outputs = [kb_title, kb_body, kb_state, kb_twins, kb_confirm_row, kb_confirm_pick]
    versions_out = [kb_versions, kb_changes, kb_back_to]

    page.load(kb_list_fn, [kb_kind, kb_filter], kb_list, **PRIVATE)
    page.load(c.kb_versions, None, versions_out, **PRIVATE)
    kb_kind.change(kb_list_fn, [kb_kind, kb_filter], kb_list, **PRIVATE)
    kb_filter.submit(kb_list_fn, [kb_kind, kb_filter], kb_list, **PRIVATE)
    kb_list.select(kb_select, [kb_kind], [kb_id, *kb_outputs], **PRIVATE)
    kb_id.submit(c.kb_open, [kb_kind, kb_id], kb_outputs, **PRIVATE)
    for button, fn, inputs in (
        (kb_save, c.kb_save, [kb_kind, kb_id, kb_title, kb_body]),
        (kb_publish, c.kb_publish, [kb_kind, kb_id, kb_title, kb_body]),
        (kb_discard, c.kb_discard, []),
    ):
        button.click(fn, inputs, kb_result, **PRIVATE).then(
            c.kb_reopen, [kb_kind, kb_id], kb_outputs, **PRIVATE
        ).then(kb_list_fn, [kb_kind, kb_filter], kb_list, **PRIVATE).then(
            c.kb_versions, None, versions_out, **PRIVATE
        ).then(c.header, None, header, **PRIVATE)
    kb_confirm.click(c.kb_confirm, [kb_kind, kb_confirm_pick], kb_result, **PRIVATE).then(
        c.kb_open, [kb_kind, kb_id], kb_outputs, **PRIVATE
    ).then(kb_list_fn, [kb_kind, kb_filter], kb_list, **PRIVATE)
    kb_rollback.click(c.kb_rollback, [kb_back_to], kb_rollback_result, **PRIVATE).then(
        c.kb_versions, None, versions_out, **PRIVATE
    ).then(kb_list_fn, [kb_kind, kb_filter], kb_list, **PRIVATE).then(
        c.kb_reopen, [kb_kind, kb_id], kb_outputs, **PRIVATE
    ).then(c.header, None, header, **PRIVATE)
    kb_versions_refresh.click(c.kb_versions, None, versions_out, **PRIVATE)
    for trigger in (kb_go.click, kb_q.submit):
        trigger(c.kb_search, [kb_q, kb_lang, kb_kinds], kb_hits, **PRIVATE)
    kb_ingest.click(c.kb_upload, [kb_files, kb_publish_upload], kb_report, **PRIVATE).then(
        kb_list_fn, [kb_kind, kb_filter], kb_list, **PRIVATE
    ).then(c.kb_versions, None, versions_out, **PRIVATE)
    page.load(c.kb_audit, None, kb_audit, **PRIVATE)
    kb_audit_refresh.click(c.kb_audit, None, kb_audit, **PRIVATE)
