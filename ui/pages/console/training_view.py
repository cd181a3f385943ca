"""The Training tab's presenter (`TrainingView`): intent model versions in plain words (each version's verdict,
a running retrain's progress bar and time left) with the ML metrics one click away (compare, promote, roll
back), and the generator's adapters."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr
import pandas as pd

from assistant.operations import Conflict, NotFound
from assistant.retrain_verdict import format_duration, verdict
from training import ModelRegistry
from ui.pages.console.view_helpers import ConsoleView, _frame, _when
from ui.plain_text import plain


class TrainingView(ConsoleView):
    """What the Training tab reads and does, through the model-version and retraining operations."""

    def registry(self) -> ModelRegistry:
        return self.ops.models.intent_registry()

    def training_view(self) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any, Any, Any, str]:
        """The versions in plain words, the ML metrics table and plot, the pickers, and the retrain line."""
        registry = self.registry()
        versions = registry.list()
        plain_rows = _plain_rows(versions, set(registry.promoted()))
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
            _frame(plain_rows, PLAIN_COLUMNS),
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
        """Start a retrain job (refused while one runs, whoever started it); its progress shows by itself."""
        self.store()
        try:
            self.ops.retraining.start(trigger="console")
        except Conflict as exc:
            raise gr.Error(str(exc)) from None
        return self.retrain_status()

    def retrain_status(self) -> str:
        """The latest retrain job (GET /v1/admin/models/retrain) in one plain line: what it is doing and the time
        left, or its verdict; without one, the verdict of the newest version."""
        job = self.ops.retraining.latest()
        if job is None:
            if self.ops.retraining.running():
                return "A retrain started by another process (`lepton train`) is running."
            return self.newest_verdict()
        by = f" from the {job['trigger']}" if job.get("trigger") else ""
        since = f"started at {_when(job.get('started_at') or job.get('queued_at'))} UTC{by}"
        if job["status"] in ("queued", "running"):
            left = format_duration(job.get("eta_s"))
            return (
                f"Retraining ({since}): {stage_words(job.get('stage'))}, "
                f"{100 * job.get('progress', 0.0):.0f} %" + (f", {left}" if left else "") + "…"
            )
        serving = f" Serving **{self.assistant.intent_version or '—'}**."
        # A done job's verdict is made of version names and numbers; a failure's carries an error's text.
        line = job.get("verdict") or ""
        if job["status"] == "failed":
            line = plain(line or f"The retrain failed: {job.get('error', '')}")
        return f"{line}{serving} ({since}, finished at {_when(job.get('finished_at'))} UTC)"

    def newest_verdict(self) -> str:
        """The newest version's verdict from the registry (what a retrain said, after a restart)."""
        registry = self.registry()
        versions = registry.list()
        if not versions:
            return "No model has been trained yet."
        newest = versions[-1]
        said = verdict(
            newest["version"],
            newest["version"] in set(registry.promoted()),
            "",
            newest.get("metrics", {}),
        )
        return f"Latest retrain: {said} Serving **{self.assistant.intent_version or '—'}**."

    def retrain_progress(self) -> tuple[str, str, str]:
        """What the tab's timer refreshes: the progress bar (empty when no retrain runs), the retrain line, and
        a key that changes when a job starts or ends (the tab then reloads the versions)."""
        job = self.ops.retraining.latest()
        key = f"{job['id']}:{job['status']}" if job else ("other" if self.ops.retraining.running() else "")
        running = job is not None and job["status"] in ("queued", "running")
        return (progress_bar(job) if running and job else ""), self.retrain_status(), key

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


STAGES = {
    "queued": "waiting to start",
    "reading data": "reading the examples",
    "training": "learning from the examples",
    "scoring": "testing the new model",
    "comparing": "comparing it with the live model",
    "loading the promoted model": "switching customers to the new model",
    "done": "done",
}
PLAIN_COLUMNS = ["version", "live", "trained", "test questions right", "examples", "verdict"]


def stage_words(stage: str | None) -> str:
    """A job's stage as the Training tab says it."""
    return STAGES.get(stage or "", stage or "working")


def progress_bar(job: dict[str, Any]) -> str:
    """A running job as an HTML progress bar with its stage, share done and time left."""
    pct = max(0.0, min(100.0, 100 * float(job.get("progress") or 0.0)))
    left = format_duration(job.get("eta_s"))
    words = f"{stage_words(job.get('stage'))} — {pct:.0f} %" + (f" · {left}" if left else "")
    return (
        f'<div class="tr-progress" data-stage="{html.escape(str(job.get("stage", "")), quote=True)}">'
        f'<progress value="{pct:.1f}" max="100" style="width:100%;height:16px" '
        f'aria-label="retrain progress"></progress>'
        f'<div class="tr-progress-words">Retraining: {html.escape(words)}</div></div>'
    )


def _plain_rows(versions: list[dict[str, Any]], promoted: set[str]) -> list[dict[str, Any]]:
    """One row per version in plain words: how many test questions it gets right, and its verdict."""
    rows = []
    for v in reversed(versions):  # newest first
        m = v.get("metrics", {})
        accuracy = (m.get("heldout") or {}).get("accuracy")
        rows.append(
            {
                "version": v["version"],
                "live": "● live" if v.get("current") else "",
                "trained": str(v.get("created", ""))[:16].replace("T", " "),
                "test questions right": f"{100 * accuracy:.1f} %" if accuracy is not None else "—",
                "examples": m.get("n_train"),
                "verdict": verdict(v["version"], v["version"] in promoted, "", m),
            }
        )
    return rows


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
