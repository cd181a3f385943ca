"""The Knowledge base tab's presenter (`KbView`): browse, open, edit as draft, keep other-language twins in
step (see knowledge/twins.py), publish, roll back, search, upload, audit log."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.operations import OperationError
from assistant.operations.curation_ops import TEMPLATE, KnowledgeCuration
from ui.http.gradio_guard import is_received_upload
from ui.pages.console.view_helpers import ConsoleView, _frame, _short, _user, _when
from ui.plain_text import inline_code, plain

NEEDS_UPDATE = "⚠ needs update"
NEEDS_TRANSLATION = (
    "⚠ needs translation"  # a draft holding another language's text: not published until written
)


class KbView(ConsoleView):
    """What the Knowledge base tab reads and does, through the curation operations."""

    def curation(self) -> KnowledgeCuration:
        self.store()
        return self.ops.curation()

    def kb_items(self, kind: str, query: str = "") -> pd.DataFrame:
        c = self.curation()
        q = (query or "").strip().lower()
        marked = {i for k, i in c.needs_update() if k == kind}
        if kind == TEMPLATE:
            live = c.live_templates()
            held = c.needs_translation()
            rows = [
                {
                    "id": t.id,
                    "title": _marked(t.title, t.id in marked, t.id in held),
                    "language": t.language,
                    "intent": t.intent,
                    "draft": ""
                    if t.id in live and (live[t.id].title, live[t.id].answer) == (t.title, t.answer)
                    else "changed",
                }
                for t in c.templates()
            ]
            cols = ["id", "title", "language", "intent", "draft"]
        else:
            rows = [
                {
                    "id": d["id"],
                    "title": _marked(d["title"], d["id"] in marked),
                    "language": d["language"],
                    "chunks": d.get("chunks"),
                    "file": Path(d["uri"]).name,
                    "draft": d.get("change") or "",
                }
                for d in c.documents()
            ]
            cols = ["id", "title", "language", "chunks", "file", "draft"]
        if q:
            rows = [r for r in rows if any(q in str(v).lower() for v in r.values())]
        return _frame(rows, cols)

    def kb_open(self, kind: str, target_id: str) -> tuple[Any, ...]:
        """(title, body, state line, twins, the confirm row's and the confirm choice's updates)."""
        target_id = (target_id or "").strip()
        if not target_id:
            return "", "", "Pick an item in the list.", "", gr.update(visible=False), gr.update(choices=[])
        try:
            item = self.curation().open(kind, target_id)
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        state = f"**{kind.title()} {inline_code(target_id)}** · language `{item['language'] or '?'}`"
        if item.get("intent"):
            state += f" · intent `{item['intent']}`"
        state += " · **draft differs from the live version**" if item["changed"] else " · same as live"
        if item.get("needs_update"):
            state += f" · **{_marker(item['needs_update'])}**"
        # A draft held for translation is written, not confirmed: no "still right" for it.
        flagged = [({"id": target_id, **item}, "this one")] if _confirmable(item.get("needs_update")) else []
        flagged += [
            (t, t["language"] or "?") for t in item.get("twins", []) if _confirmable(t["needs_update"])
        ]
        choices = [(f"{t['id']} ({where}) is still right", t["id"]) for t, where in flagged]
        return (
            item["title"],
            item["body"],
            state,
            twins_markdown(item),
            gr.update(visible=bool(choices)),
            gr.update(choices=choices, value=choices[0][1] if choices else None),
        )

    def kb_reopen(self, kind: str, target_id: str) -> tuple[Any, ...]:
        """`kb_open` after a rollback, which may have taken the item away: then nothing is open."""
        try:
            return self.kb_open(kind, target_id)
        except gr.Error:
            return self.kb_open(kind, "")

    def kb_confirm(self, kind: str, target_id: str | None, request: gr.Request) -> str:
        if not (target_id or "").strip():
            raise gr.Error("Nothing here needs update.")
        try:
            self.curation().confirm(kind, target_id.strip(), actor=_user(request))
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        return f"Confirmed: {inline_code(target_id.strip())} is still right; it no longer needs update."

    def kb_versions(self) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
        c = self.curation()
        versions = c.versions()
        table = _frame(
            [
                {
                    "version": f"v{v['version']}",
                    "live": "live" if v.get("live") else "",
                    "published (UTC)": _when(v.get("created_at")),
                    "by": v.get("actor"),
                    "summary": _version_summary(v),
                    "documents": v.get("documents"),
                    "templates": v.get("templates"),
                }
                for v in versions
            ],
            ["version", "live", "published (UTC)", "by", "summary", "documents", "templates"],
        )
        changes = _frame(c.changes(), ["change", "kind", "title", "uri", "id"])
        choices = [(version_label(v), str(v["version"])) for v in versions if not v.get("live")]
        return table, changes, gr.update(choices=choices, value=choices[0][1] if choices else None)

    def kb_save(self, kind: str, target_id: str, title: str, body: str, request: gr.Request) -> str:
        if not (target_id or "").strip():
            raise gr.Error("Pick an item first.")
        try:
            self.curation().save_draft(kind, target_id.strip(), title, body, actor=_user(request))
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        return (
            f"Draft of {inline_code(target_id)} saved at {_when(dt.datetime.now(dt.UTC).timestamp())} UTC — "
            "not live until you publish."
        )

    def kb_publish(self, kind: str, target_id: str, title: str, body: str, request: gr.Request) -> str:
        c = self.curation()
        note = ""
        try:
            if (target_id or "").strip() and (
                body or ""
            ).strip():  # what is on screen goes live with the rest
                c.save_draft(kind, target_id.strip(), title, body, actor=_user(request))
                note = f"edit of {target_id.strip()}"
            pending = len(c.changes())
            row = c.publish(_user(request), note=note)
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        return f"Published: version **v{row['version']}** is live ({pending} changed document(s))."

    def kb_discard(self, request: gr.Request) -> str:
        try:
            row = self.curation().discard_draft(_user(request))
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        return f"Draft discarded: it is version v{row.get('version', '?')} again."

    def kb_rollback(self, version: str | None, request: gr.Request) -> str:
        if not version:
            raise gr.Error("Pick the version to go back to.")
        try:
            row = self.curation().rollback(int(version), _user(request))
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        return f"Rolled back: **{plain(version_label(row))}** is live again."

    def kb_search(self, query: str, language: str, kind: str) -> pd.DataFrame:
        cols = ["score", "kind", "title", "language", "id", "snippet"]
        if not (query or "").strip():
            return _frame([], cols)
        kinds = {"Documents": {"document"}, "Templates": {"template"}}.get(kind)
        hits = self.curation().search(
            query, k=10, language=None if language == "any" else language, kinds=kinds
        )
        return _frame(
            [
                {
                    "score": round(h.score, 3),
                    "kind": h.kind,
                    "title": h.title + (f" — {h.heading}" if h.heading else ""),
                    "language": h.language,
                    "id": h.id,
                    "snippet": h.snippet,
                }
                for h in hits
            ],
            cols,
        )

    def kb_upload(self, files: list[str] | None, publish: bool, request: gr.Request) -> str:
        if not files:
            raise gr.Error(
                "Choose one or more files first (.md .txt .html .pdf .docx, or templates*.yaml/.csv/.json)."
            )
        # Only what Gradio received in its upload folder: a path named in a crafted request is no upload.
        refused = [Path(str(f)).name or str(f) for f in files if not is_received_upload(str(f))]
        if refused:
            raise gr.Error(
                "Only files uploaded with the button above can be ingested; refused: "
                + ", ".join(html.escape(name) for name in refused)
                + ". Nothing was ingested."
            )
        try:
            report = self.curation().ingest_uploads(
                [Path(f) for f in files], actor=_user(request), received=is_received_upload, publish=publish
            )
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        lines = [
            f"**Ingested** — added {report['added']}, updated {report['updated']}, unchanged "
            f"{report['unchanged']}, {report['chunks']} chunks"
            + (
                f"; published as **v{report['version']}**."
                if report.get("version")
                else "; in the draft until you publish."
                if publish is False
                else "."
            )
        ]
        lines += [f"- **error** `{e['file']}`: {html.escape(e['error'])}" for e in report["errors"]]
        return "\n".join(lines)

    def kb_audit(self) -> pd.DataFrame:
        rows = []
        for r in self.curation().audit():
            detail = r.get("detail")
            if isinstance(detail, dict):
                detail = ", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, "", []))
            rows.append(
                {
                    "when (UTC)": _when(r.get("at")),
                    "who": r.get("actor"),
                    "action": r.get("action"),
                    "target": r.get("target"),
                    "detail": _short(str(detail or ""), 140),
                }
            )
        return _frame(rows, ["when (UTC)", "who", "action", "target", "detail"])


def _marked(title: str, needs_update: bool, needs_translation: bool = False) -> str:
    """A list row's title, led by the "needs update" marker when a twin was edited since (or "needs
    translation" when it still holds another language's text)."""
    if needs_translation:
        return f"{NEEDS_TRANSLATION} · {title}"
    return f"{NEEDS_UPDATE} · {title}" if needs_update else title


def _marker(flag: dict[str, Any]) -> str:
    return NEEDS_TRANSLATION if flag.get("needs_translation") else NEEDS_UPDATE


def _confirmable(flag: dict[str, Any] | None) -> bool:
    return flag is not None and not flag.get("needs_translation")


def _version_summary(v: dict[str, Any]) -> str:
    """The publish note and what the version changed ("3 documents, 1 template changed")."""
    note, changes = (v.get("note") or "").strip(), (v.get("changes") or "").strip()
    if note and changes:
        return f"{note} — {changes}"
    return note or changes or v.get("summary") or ""


def version_label(v: dict[str, Any]) -> str:
    """A version as the rollback list names it: number, date, who published it, summary."""
    parts = [f"v{v.get('version')}", f"{_when(v.get('created_at'))} UTC", str(v.get("actor") or "?")]
    summary = _version_summary(v)
    return " · ".join(parts + ([_short(summary, 120)] if summary else []))


def _mark_line(flag: dict[str, Any]) -> str:
    """ "tpl-x (en) changed by alice at …: “…3 days…” → “…5 days…”" for a needs-update mark."""
    if flag.get("needs_translation"):
        return (
            f"{inline_code(flag['source'])} ({plain(flag.get('source_language') or '?')}), written by "
            f"{plain(flag.get('by'))} at {_when(flag.get('at'))} UTC; this draft still has its text and is "
            "left out of publishing until it is written in its own language"
        )
    line = (
        f"{inline_code(flag['source'])} ({plain(flag.get('source_language') or '?')}) was edited by "
        f"{plain(flag.get('by'))} at {_when(flag.get('at'))} UTC"
    )
    return line + (f": {plain(_short(flag['diff'], 300))}" if flag.get("diff") else "")


def twins_markdown(item: dict[str, Any]) -> str:
    """The opened item's own mark and its other-language twins with theirs."""
    parts = []
    mark = item.get("needs_update")
    if mark and mark.get("needs_translation"):
        parts.append(f"**{NEEDS_TRANSLATION}** — from {_mark_line(mark)}. Translate it here and save.")
    elif mark:
        parts.append(
            f"**{NEEDS_UPDATE}** — its twin {_mark_line(mark)}. Edit this one to match, or "
            "confirm it is still right."
        )
    twins = item.get("twins") or []
    if not twins:
        parts.append("No twin in another language.")
    else:
        lines = ["**In other languages:**"]
        for t in twins:
            head = f"- {inline_code(t['id'])} · {inline_code(t['language'] or '?')} · {plain(_short(t['title'], 80))} — "
            if t["needs_update"]:
                lines.append(head + f"**{_marker(t['needs_update'])}**: {_mark_line(t['needs_update'])}")
            else:
                lines.append(head + "✓ in step")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
