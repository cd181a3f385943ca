"""The Review queue tab's presenter (`ReviewView`): pending items, one item's detail, resolving it."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.operations import NotFound, OperationError
from ui.pages.console.view_helpers import ConsoleView, _frame, _short, _user, _when
from ui.plain_text import inline_code, plain

TABLE_COLUMNS = ["id", "question", "why", "bot's reply", "asked", "lang", "queued (UTC)"]


def item_detail(item: dict[str, Any]) -> str:
    """One item as Markdown: the question, why it was queued, the bot's reply and its sources (all shown
    literally: customer text and replies that may echo it), then the topic the bot guessed."""
    why = "; ".join(item.get("why") or []) or "—"
    parts = [f"**Question:** {plain(item['text'])}", f"**Why it is here:** {plain(why)}"]
    if item.get("reply"):
        parts.append(f"**The bot replied:**\n\n> {plain(item['reply'])}".replace("  \n", "  \n> "))
    else:
        parts.append("**The bot replied:** — (the conversation is no longer stored)")
    sources = item.get("sources") or []
    if sources:
        listed = " · ".join(plain(f"{s.get('title') or s.get('id')} ({s.get('uri')})") for s in sources)
        parts.append(f"**Sources:** {listed}")
    elif item.get("reply"):
        parts.append("**Sources:** none")
    parts.append(
        f"**Topic the bot guessed:** {inline_code(item['predicted'] or '—')} "
        f"(confidence {(item['confidence'] or 0):.2f}) · turn {inline_code(item['turn_id'])}"
    )
    if item["copies"] > 1 and item["status"] == "pending":
        parts.append(f"**Asked {item['copies']} times:** {item['copies']} pending items have this text.")
    return "\n\n".join(parts)


class ReviewView(ConsoleView):
    """What the Review queue tab reads and does, through the review operations."""

    def intent_names(self) -> list[str]:
        a = self.assistant
        names = self.ops.review.known_intents()
        if a.intents is not None:
            names.update(a.intents.labels)
        return sorted(names)

    def review_table(self) -> tuple[pd.DataFrame, str, Any]:
        """Pending items, one per question (however many asked it), each with why it was queued and the
        bot's reply."""
        self.store()
        listed = self.ops.review.items("pending", 200, grouped=True)
        rows = [
            {
                "id": i["id"],
                "question": _short(i["text"], 120),
                "why": "; ".join(i["why"]),
                "bot's reply": _short(i["reply"], 120) if i["reply"] else "—",
                "asked": f"{i['copies']}×" if i["copies"] > 1 else "1×",
                "lang": i["language"],
                "queued (UTC)": _when(i["created_at"]),
            }
            for i in listed["items"]
        ]
        counts = listed["counts"]
        summary = " · ".join(
            f"{k}: **{counts.get(k, 0)}**" for k in ("pending", "confirmed", "corrected", "discarded")
        )
        return _frame(rows, TABLE_COLUMNS), summary, gr.update(choices=self.intent_names())

    def review_pick(self, item_id: Any) -> tuple[str, str, Any]:
        if self.assistant.review is None or item_id in (None, ""):
            return "", "Select an item in the table.", gr.update()
        try:
            item = self.ops.review.get(int(item_id))
        except NotFound:
            return "", "That item is gone.", gr.update()
        return str(item["id"]), item_detail(item), gr.update(value=item["predicted"] or None)

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
