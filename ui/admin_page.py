"""The admin console's operations (`AdminConsole`): what the tabs in ui/pages/console/ read and do.

Tabs: knowledge base (browse, search, edit as draft, publish, roll back, upload, audit), review queue,
training (versions, compare, promote / roll back, retrain), analytics, turn trace, and the agent view
(handed-off sessions: read the conversation, reply, close).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant import analytics
from assistant.conversations import HANDOFF, ConversationStore
from assistant.operations import Conflict, NotFound, OperationError, operations_for
from assistant.operations.curation_ops import TEMPLATE, KnowledgeCuration
from assistant.pipeline import Assistant
from training import ModelRegistry
from ui.http.gradio_guard import is_received_upload
from ui.plain_text import inline_code, plain

log = logging.getLogger("lepton.admin")

TURN_COLUMNS = ["message", "route", "ms", "when (UTC)", "turn id"]
HANDOFF_COLUMNS = ["last message", "since (UTC)", "lang.", "session"]
WINDOWS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "All time": 0}


# -- small helpers ---------------------------------------------------------------------------------
def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(float(ts), tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _short(text: str | None, n: int = 90) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def _user(request: gr.Request | None) -> str:
    return (getattr(request, "username", None) or "admin")[:80]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


class AdminConsole:
    """Holds the assistant and builds the page; every handler reads live state, nothing is cached. The work
    is done by the assistant's operations (assistant/operations/), the same the REST API, the CLI and the
    retrain schedule use: one retrain lock, one job status."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.ops = operations_for(assistant)

    # -- access to the live parts --------------------------------------------------------------------
    def store(self) -> ConversationStore:
        a = self.assistant
        if not a.ready or a.store is None:
            raise gr.Error("The assistant is still starting; try again in a moment.")
        return a.store

    def curation(self) -> KnowledgeCuration:
        self.store()
        return self.ops.curation()

    def registry(self) -> ModelRegistry:
        return self.ops.models.intent_registry()

    def intent_names(self) -> list[str]:
        a = self.assistant
        names = self.ops.review.known_intents()
        if a.intents is not None:
            names.update(getattr(a.intents, "labels", []) or [])
        return sorted(names)

    # -- header --------------------------------------------------------------------------------------
    def header(self) -> str:
        a = self.assistant
        if not a.ready or a.store is None:
            return "Starting… models are loading."
        counts = a.store.counts()
        handoffs = len(a.store.sessions_with_status(HANDOFF, limit=1000))
        pending = a.review.counts().get("pending", 0) if a.review else 0
        kb = a.kb.stats() if a.kb else {}
        return (
            f"**{counts['sessions']}** conversations · **{counts['turns']}** customer turns · "
            f"**{handoffs}** waiting for an agent · **{pending}** to review · "
            f"knowledge base: **{kb.get('documents', 0)}** documents, **{kb.get('templates', 0)}** templates · "
            f"intent model **{a.intent_version or '—'}**"
        )

    # -- knowledge base ------------------------------------------------------------------------------
    def kb_items(self, kind: str, query: str = "") -> pd.DataFrame:
        c = self.curation()
        q = (query or "").strip().lower()
        if kind == TEMPLATE:
            live = c.live_templates()
            rows = [
                {
                    "id": t.id,
                    "title": t.title,
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
                    "title": d["title"],
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

    def kb_open(self, kind: str, target_id: str) -> tuple[str, str, str]:
        target_id = (target_id or "").strip()
        if not target_id:
            return "", "", "Pick an item in the list."
        try:
            item = self.curation().open(kind, target_id)
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        state = f"**{kind.title()} {inline_code(target_id)}** · language `{item['language'] or '?'}`"
        if item.get("intent"):
            state += f" · intent `{item['intent']}`"
        state += " · **draft differs from the live version**" if item["changed"] else " · same as live"
        return item["title"], item["body"], state

    def kb_versions(self) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
        c = self.curation()
        versions = c.versions()
        table = _frame(
            [
                {
                    "version": v["version"],
                    "live": "live" if v.get("live") else "",
                    "published (UTC)": _when(v.get("created_at")),
                    "by": v.get("actor"),
                    "note": v.get("note"),
                    "documents": v.get("documents"),
                    "templates": v.get("templates"),
                }
                for v in versions
            ],
            ["version", "live", "published (UTC)", "by", "note", "documents", "templates"],
        )
        changes = _frame(c.changes(), ["change", "kind", "title", "uri", "id"])
        choices = [str(v["version"]) for v in versions if not v.get("live")]
        return table, changes, gr.update(choices=choices, value=choices[0] if choices else None)

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
        return f"Rolled back: version **v{row.get('version', version)}** is live again."

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

    # -- review queue --------------------------------------------------------------------------------
    def review_table(self) -> tuple[pd.DataFrame, str, Any]:
        self.store()
        listed = self.ops.review.items("pending", 200)
        items = listed["items"]
        rows = [
            {
                "id": i["id"],
                "message": _short(i["text"], 120),
                "reasons": i["reasons"],
                "predicted": i["predicted"] or "",
                "confidence": round(i["confidence"] or 0.0, 3),
                "language": i["language"],
                "copies": i["copies"],
                "queued (UTC)": _when(i["created_at"]),
            }
            for i in items
        ]
        counts = listed["counts"]
        summary = " · ".join(
            f"{k}: **{counts.get(k, 0)}**" for k in ("pending", "confirmed", "corrected", "discarded")
        )
        return (
            _frame(
                rows,
                ["id", "message", "reasons", "predicted", "confidence", "language", "copies", "queued (UTC)"],
            ),
            summary,
            gr.update(choices=self.intent_names()),
        )

    def review_pick(self, item_id: Any) -> tuple[str, str, Any]:
        if self.assistant.review is None or item_id in (None, ""):
            return "", "Select an item in the table.", gr.update()
        try:
            item = self.ops.review.get(int(item_id))
        except NotFound:
            return "", "That item is gone.", gr.update()
        text = (
            f"**Message:** {plain(item['text'])}\n\n**Why queued:** {plain(item['reasons'])} · "
            f"**predicted:** {inline_code(item['predicted'] or '—')} ({(item['confidence'] or 0):.2f}) · "
            f"turn {inline_code(item['turn_id'])}"
        )
        if item["copies"] > 1 and item["status"] == "pending":
            text += f"\n\n**{item['copies']} pending items** have this text."
        return str(item["id"]), text, gr.update(value=item["predicted"] or None)

    def review_resolve(
        self, item_id: str, intent: str | None, same_text: bool, action: str, request: gr.Request
    ) -> str:
        if self.assistant.review is None or not item_id:
            raise gr.Error("Select an item first.")
        try:
            item = self.ops.review.get(int(item_id))
        except NotFound:
            raise gr.Error("That item is gone.") from None
        if action == "confirm":
            label = item["predicted"]
            if not label:
                raise gr.Error("Nothing was predicted: pick the right intent and press Correct.")
        elif action == "correct":
            if not intent:
                raise gr.Error("Pick the right intent first.")
            label = intent
        else:
            label = None
        try:  # a confirmed label is the model's own; a correction must name a known intent, as in the API
            done = self.ops.review.resolve(
                int(item_id),
                label,
                reviewer=_user(request),
                same_text=bool(same_text),
                check=action == "correct",
            )
        except OperationError as exc:
            raise gr.Error(str(exc)) from None
        also = done.get("also_resolved", 0)
        return (
            f"Item {item_id}: **{done['status']}**"
            + (f" as `{label}`" if label else "")
            + (f", and {also} more with the same text" if also else "")
            + "."
        )

    # -- training ------------------------------------------------------------------------------------
    def training_view(self) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any, Any, str]:
        versions = self.registry().list()
        rows, points = [], []
        for v in versions:
            m = v.get("metrics", {})
            h = m.get("heldout", {}) or {}
            rows.append(
                {
                    "version": v["version"],
                    "live": "● live" if v.get("current") else "",
                    "created": v.get("created", ""),
                    "held-out macro-F1": _r(h.get("macro_f1")),
                    "held-out accuracy": _r(h.get("accuracy")),
                    "val macro-F1": _r(m.get("val_macro_f1")),
                    "OOS recall": _r(m.get("val_oos_recall")),
                    "train examples": m.get("n_train"),
                    "reviewed": m.get("reviewed_examples"),
                    "held-out set": h.get("heldout_id", ""),
                }
            )
            for name, value in (
                ("held-out macro-F1", h.get("macro_f1")),
                ("held-out accuracy", h.get("accuracy")),
                ("val macro-F1", m.get("val_macro_f1")),
            ):
                if value is not None:
                    points.append({"version": v["version"], "metric": name, "value": float(value)})
        names = [v["version"] for v in versions]
        table = _frame(
            rows,
            [
                "version",
                "live",
                "created",
                "held-out macro-F1",
                "held-out accuracy",
                "val macro-F1",
                "OOS recall",
                "train examples",
                "reviewed",
                "held-out set",
            ],
        )
        plot = _metrics_figure(pd.DataFrame(points, columns=["version", "metric", "value"]))
        a = names[-2] if len(names) > 1 else (names[0] if names else None)
        b = names[-1] if names else None
        return (
            table,
            plot,
            gr.update(choices=names, value=a),
            gr.update(choices=names, value=b),
            gr.update(choices=names, value=b),
            self.retrain_status(),
        )

    def compare(self, a: str | None, b: str | None) -> pd.DataFrame:
        cols = ["metric", "A", "B", "B − A"]
        if not a or not b:
            return _frame([], cols)
        try:
            ma, mb = self.ops.models.intent_metadata(a), self.ops.models.intent_metadata(b)
        except NotFound:
            raise gr.Error("Unknown version.") from None
        rows = []
        for label, path in (
            ("held-out macro-F1", ("heldout", "macro_f1")),
            ("held-out accuracy", ("heldout", "accuracy")),
            ("val macro-F1", ("val_macro_f1",)),
            ("val accuracy", ("val_accuracy",)),
            ("val in-scope accuracy", ("val_in_scope_accuracy",)),
            ("OOS recall", ("val_oos_recall",)),
            ("train examples", ("n_train",)),
            ("reviewed examples", ("reviewed_examples",)),
            ("labels", ("n_labels",)),
            ("epochs run", ("epochs_run",)),
            ("train seconds", ("train_seconds",)),
        ):
            va, vb = _dig(ma["metrics"], path), _dig(mb["metrics"], path)
            delta = round(vb - va, 4) if isinstance(va, int | float) and isinstance(vb, int | float) else ""
            rows.append({"metric": label, "A": _r(va), "B": _r(vb), "B − A": delta})
        same_heldout = _dig(ma["metrics"], ("heldout", "heldout_id")) == _dig(
            mb["metrics"], ("heldout", "heldout_id")
        )
        rows.append(
            {
                "metric": "same held-out set",
                "A": _dig(ma["metrics"], ("heldout", "heldout_id")),
                "B": _dig(mb["metrics"], ("heldout", "heldout_id")),
                "B − A": "yes" if same_heldout else "no",
            }
        )
        return _frame(rows, cols)

    def promote(self, version: str | None) -> str:
        if not version:
            raise gr.Error("Pick a version.")
        try:
            serving = self.ops.models.promote_intent(version)
        except NotFound:
            raise gr.Error(f"Unknown version {version}.") from None
        return f"{version} promoted; serving **{serving or version}**."

    def rollback_model(self) -> str:
        try:
            version, serving = self.ops.models.rollback_intent()
        except Conflict:
            raise gr.Error("There is no earlier model to roll back to.") from None
        return f"Rolled back; serving **{serving or version}**."

    def retrain(self) -> str:
        """Start a retrain job (refused while one runs, whoever started it); its status as the API shows it."""
        self.store()
        try:
            self.ops.retraining.start(trigger="console")
        except Conflict as exc:
            raise gr.Error(str(exc)) from None
        return self.retrain_status() + " (this takes minutes on CPU; press Refresh to see the outcome)"

    def retrain_status(self) -> str:
        """The latest retrain job (GET /v1/admin/models/retrain): status, stage and progress, outcome."""
        job = self.ops.retraining.latest()
        if job is None:
            if self.ops.retraining.running():
                return "A retrain started by another process (`lepton train`) is running."
            return "No retrain has run in this server yet."
        by = f" (from the {job['trigger']})" if job.get("trigger") else ""
        since = f" at {_when(job.get('started_at') or job.get('queued_at'))} UTC"
        if job["status"] in ("queued", "running"):
            return (
                f"Retrain {inline_code(job['id'])}{by} started{since}: **{job['status']}** — "
                f"{job.get('stage', '')} ({100 * job.get('progress', 0.0):.0f}%)…"
            )
        if job["status"] == "failed":
            return f"Retrain {inline_code(job['id'])}{by} failed: {plain(str(job.get('error', '')))}"
        outcome = "promoted" if job.get("promoted") else "kept the current model"
        serving = f"; serving **{self.assistant.intent_version or '—'}**"
        return (
            f"Retrain {inline_code(job['id'])}{by}, finished at {_when(job.get('finished_at'))} UTC: "
            f"{outcome}: {job.get('version')} — {plain(str(job.get('reason', '')))}{serving}"
        )

    # -- generator adapters --------------------------------------------------------------------------
    def adapters(self) -> ModelRegistry:
        return self.ops.models.adapter_registry()

    def _adapter_serving(self) -> str:
        if self.assistant.generator_adapter:
            return self.assistant.generator_adapter
        if self.assistant.settings.generator.adapter == "off":
            return "base model (adapters are off in the settings)"
        return "base model" if self.assistant.generator is not None else "no local generator"

    def adapters_view(self) -> tuple[pd.DataFrame, Any, str]:
        return (*self.adapters_table(), f"Generator serving: **{self._adapter_serving()}**.")

    def adapters_table(self) -> tuple[pd.DataFrame, Any]:
        versions = self.adapters().list()
        rows = []
        for v in versions:
            m = v.get("metrics", {})
            rows.append(
                {
                    "version": v["version"],
                    "live": "● live" if v.get("current") else "",
                    "created": v.get("created", ""),
                    "held-out answer loss": _r(m.get("heldout_loss")),
                    "base model's": _r(m.get("heldout_loss_base")),
                    "served model's then": _r(m.get("heldout_loss_served")),
                    "pairs": m.get("pairs"),
                    "held out": m.get("heldout_pairs"),
                }
            )
        cols = ["version", "live", "created", "held-out answer loss", "base model's", "served model's then"]
        table = _frame(rows, [*cols, "pairs", "held out"])
        current = next((v["version"] for v in versions if v.get("current")), None)
        return table, gr.update(choices=[v["version"] for v in versions], value=current)

    def promote_adapter(self, version: str | None) -> str:
        if not version:
            raise gr.Error("Pick an adapter version.")
        try:
            self.ops.models.promote_adapter(version)
        except NotFound:
            raise gr.Error(f"Unknown adapter version {version}.") from None
        return f"Adapter {version} promoted; generator serving **{self._adapter_serving()}**."

    def rollback_adapter(self) -> str:
        try:
            self.ops.models.rollback_adapter()
        except Conflict:
            raise gr.Error("There is no earlier adapter to roll back to.") from None
        return f"Rolled back; generator serving **{self._adapter_serving()}**."

    # -- analytics -----------------------------------------------------------------------------------
    def analytics_view(self, window: str) -> tuple[Any, ...]:
        store = self.store()
        from assistant.feedback import feedback_store

        feedback_store(self.assistant)
        s = analytics.summary(store, WINDOWS.get(window, 30) or None)
        r, f = s["resolution"], s["feedback"]
        cards = [
            ("Conversations", f"{r['sessions']}"),
            ("Customer turns", f"{r['customer_turns']}"),
            ("Resolution rate", _pct(r["resolution_rate"])),
            ("Handed to a person", _pct(r["handoff_rate"])),
            (
                "Thumbs up (of rated)",
                _pct(f["up_rate"]) + f" <small>({f['up']} up / {f['down']} down)</small>",
            ),
            ("Unanswered turns", f"{s['routes'].get('fallback', 0)}"),
        ]
        kpis = (
            '<div class="kpis">'
            + "".join(
                f'<div class="kpi"><div class="v">{v}</div><div class="l">{html.escape(k)}</div></div>'
                for k, v in cards
            )
            + "</div>"
        )
        per_day = pd.DataFrame(s["per_day"], columns=["day", "conversations", "turns", "handoffs"])
        routes = pd.DataFrame(
            [{"route": k, "turns": v} for k, v in s["routes"].items()], columns=["route", "turns"]
        )
        intents = pd.DataFrame(s["top_intents"], columns=["intent", "turns", "mean_confidence"])
        unanswered = _frame(
            [{**u, "last seen (UTC)": _when(u["last_seen"])} for u in s["top_unanswered"]],
            ["question", "count", "language", "last seen (UTC)", "last_turn_id"],
        )
        lat_rows = []
        for row in s["latency"]:
            lat_rows.append({"route": row["route"], "stat": "p50", "ms": row["p50_ms"]})
            lat_rows.append({"route": row["route"], "stat": "p95", "ms": row["p95_ms"]})
        latency_plot = pd.DataFrame(lat_rows, columns=["route", "stat", "ms"])
        if not latency_plot.empty:
            latency_plot["bar"] = latency_plot["route"] + " " + latency_plot["stat"]
        else:
            latency_plot["bar"] = []
        latency = _frame(s["latency"], ["route", "turns", "p50_ms", "p95_ms", "max_ms"])
        feedback_plot = pd.DataFrame(
            [{"rating": "thumbs up", "turns": f["up"]}, {"rating": "thumbs down", "turns": f["down"]}]
        )
        return kpis, per_day, routes, intents, unanswered, latency_plot, latency, feedback_plot

    # -- trace ---------------------------------------------------------------------------------------
    def recent_turns(self, route: str) -> pd.DataFrame:
        store = self.store()
        where, params = ("where route = ?", [route]) if route and route != "all" else ("", [])
        with store._lock:
            rows = list(
                store.db.query(
                    f"select id, created_at, message, route, intent, confidence, latency_ms from turns {where}"
                    " order by created_at desc limit 100",
                    params,
                )
            )
        return _frame(
            [
                {
                    "turn id": r["id"],
                    "when (UTC)": _when(r["created_at"])[5:],
                    "message": _short(r["message"], 36),
                    "route": r["route"],
                    "ms": round(r["latency_ms"] or 0),
                }
                for r in rows
            ],
            TURN_COLUMNS,
        )

    def trace(self, turn_id: str) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        turn_id = (turn_id or "").strip()
        empty = (
            pd.DataFrame(columns=["intent", "score"]),
            pd.DataFrame(columns=["score", "kind", "title", "language", "id"]),
            pd.DataFrame(columns=["stage", "ms"]),
        )
        if not turn_id:
            return "Enter a turn id, or click a turn in the list.", *empty, {}
        t = self.store().turn(turn_id)
        if t is None:
            return f"No turn {inline_code(turn_id)}.", *empty, {}
        tr = t["trace"] or {}
        decision = tr.get("decision", {})
        guard = tr.get("guard")
        intent = tr.get("intent", {})
        lines = [
            f"### Turn {inline_code(t['id'])}",
            f"**Session** {inline_code(t['session_id'])} · {_when(t['created_at'])} UTC · "
            f"**{round(t['latency_ms'] or 0)} ms**",
            f"> {plain(t['message'])}",
            f"**Language:** {inline_code(t['language'])} · **Intent:** {inline_code(t['intent'] or '—')} "
            f"({(t['confidence'] or 0):.3f})"
            + (f" · model {inline_code(intent.get('model'))}" if intent.get("model") else ""),
            f"**Route:** {inline_code(t['route'])} — "
            + plain(str(decision.get("reason", "")) or "no reason recorded"),
        ]
        if tr.get("rewritten"):
            lines.append(f"**Rewritten follow-up:** {plain(tr['rewritten'])}")
        if tr.get("slot"):
            lines.append(
                f"**Slot:** missing {inline_code(tr['slot'].get('missing'))} "
                f"for template {inline_code(tr['slot'].get('template'))}"
            )
        if guard:
            verdict = (
                "<span style='color:#16a34a'>passed</span>"
                if guard.get("ok")
                else "<span style='color:#dc2626'>rejected</span>"
            )
            extra = f", support {guard['support']}" if "support" in guard else ""
            fb = " → extractive answer used" if guard.get("fallback") else ""
            lines.append(f"**Grounding guard:** {verdict} ({plain(str(guard.get('reason', '')))}{extra}){fb}")
            if guard.get("draft"):
                lines.append(
                    f"<details><summary>Generator draft</summary>\n\n{plain(guard['draft'])}\n\n</details>"
                )
        else:
            lines.append("**Grounding guard:** not involved (no generated text)")
        if tr.get("injection"):
            lines.append("**Injection:** the message looked like prompt injection or markup")
        lines.append(f"**Reply:**\n\n{plain(t['reply'])}")
        ranking = pd.DataFrame(
            [{"intent": n, "score": float(p)} for n, p in intent.get("ranking", [])],
            columns=["intent", "score"],
        )
        passages = _frame(tr.get("retrieved", []), ["score", "kind", "title", "language", "id"])
        stages = pd.DataFrame(
            [{"stage": k, "ms": float(v)} for k, v in (tr.get("stages_ms") or {}).items()],
            columns=["stage", "ms"],
        )
        return "\n\n".join(lines), ranking, passages, stages, t

    # -- agent view ----------------------------------------------------------------------------------
    def handoffs(self) -> pd.DataFrame:
        self.store()
        rows = self.ops.agents.handoffs(limit=200)
        return _frame(
            [
                {
                    "session": r["id"],
                    "lang.": r["language"],
                    "since (UTC)": _when(r["updated_at"])[5:16],
                    "last message": _short(r["last_message"], 70),
                }
                for r in rows
            ],
            HANDOFF_COLUMNS,
        )

    def conversation(self, session_id: str | None) -> tuple[list[dict[str, Any]], str]:
        if not session_id:
            return [], "Select a session on the left."
        store = self.store()
        turns = store.history(session_id, limit=500)
        agent = store.agent_messages(session_id)
        events: list[tuple[float, int, dict[str, Any]]] = []
        for t in turns:
            events.append((t["created_at"], 0, {"role": "user", "content": plain(t["message"])}))
            label = "Bot" + (" (handoff)" if t["route"] == "handoff" else "")
            events.append(
                (
                    t["created_at"],
                    1,
                    {
                        "role": "assistant",
                        "content": f"**{label}:** {plain(t['reply'])}",
                    },
                )
            )
        for m in agent:
            events.append(
                (
                    m["created_at"],
                    2,
                    {
                        "role": "assistant",
                        "content": f"**Agent {plain(m['agent'])}:** {plain(m['text'])}",
                    },
                )
            )
        events.sort(key=lambda e: (e[0], e[1]))
        session = store.session(session_id)
        status = (
            f"Session {inline_code(session_id)} · status **{session.status}** · "
            f"language {inline_code(session.language or '?')} · "
            f"{len(turns)} customer turns, {len(agent)} agent messages"
        )
        return [e[2] for e in events], status

    def agent_send(
        self, session_id: str | None, text: str, request: gr.Request
    ) -> tuple[str, list[dict[str, Any]], str]:
        if not session_id:
            raise gr.Error("Select a session first.")
        text = (text or "").strip()
        if not text:
            raise gr.Error("Write a reply first.")
        if len(text) > 4000:
            raise gr.Error("A reply is at most 4000 characters.")
        self.store()
        try:
            self.ops.agents.reply(session_id, text, agent=_user(request))
        except NotFound:
            raise gr.Error("No such session.") from None
        chat, status = self.conversation(session_id)
        return "", chat, status

    def agent_close(self, session_id: str | None) -> tuple[list[dict[str, Any]], str]:
        if not session_id:
            raise gr.Error("Select a session first.")
        self.store()
        try:
            self.ops.agents.close(session_id)
        except NotFound:
            raise gr.Error("No such session.") from None
        gr.Info("Session closed: the bot answers the customer's next message.")
        return self.conversation(session_id)


def _metrics_figure(points: pd.DataFrame) -> Any:
    """Held-out and validation metrics per model version: lines with markers (one version is one dot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=110)
    versions = list(dict.fromkeys(points["version"]))
    for metric, group in points.groupby("metric", sort=False):
        xs = [versions.index(v) for v in group["version"]]
        ax.plot(xs, group["value"], marker="o", linewidth=2, label=metric)
        for x, y in zip(xs, group["value"], strict=True) if metric == "held-out macro-F1" else ():
            ax.annotate(
                f"{y:.3f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7
            )
    ax.set_xticks(range(len(versions)), versions)
    ax.set_xlim(-0.5, max(len(versions) - 0.5, 0.5))
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if len(points):
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no model versions yet", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    plt.close(fig)
    return fig


def _r(x: Any) -> Any:
    return round(x, 4) if isinstance(x, float) else x


def _dig(d: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)  # type: ignore[assignment]
    return d
