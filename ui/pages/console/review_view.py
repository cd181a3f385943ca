"""The Review queue tab's presenter (`ReviewView`): pending items, one item's detail, resolving it."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.operations import NotFound, OperationError
from ui.pages.console.view_helpers import ConsoleView, _frame, _short, _user, _when
from ui.plain_text import inline_code, plain


class ReviewView(ConsoleView):
    """What the Review queue tab reads and does, through the review operations."""

    def intent_names(self) -> list[str]:
        a = self.assistant
        names = self.ops.review.known_intents()
        if a.intents is not None:
            names.update(a.intents.labels)
        return sorted(names)

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
