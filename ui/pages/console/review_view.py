"""The Review queue tab's presenter (`ReviewView`): pending items, one item's detail, and fixing its answer:
fine, use this answer, write the right answer (a draft to publish in the Knowledge base tab), or discard."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.messages import language_name
from assistant.operations import NotFound, OperationError
from assistant.turn import NotReady
from ui.pages.console.view_helpers import ConsoleView, _frame, _short, _user, _when
from ui.plain_text import inline_code, plain

TABLE_COLUMNS = ["id", "question", "why", "bot's reply", "asked", "lang", "queued (UTC)"]
SNIPPET = "Knowledge-base article"


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

    def answer_choices(self) -> list[tuple[str, str]]:
        """(shown, intent) for every intent a reviewer may pick: "name — its template's title" where it has
        one (English first), so the right existing answer is recognised by what it says."""
        titles: dict[str, str] = {}
        try:
            rows = sorted(self.ops.curation().live_templates().values(), key=lambda t: t.language != "en")
        except NotReady:
            rows = []
        for t in rows:
            titles.setdefault(t.intent, t.title)
        return [(f"{n} — {titles[n]}" if n in titles else n, n) for n in self.intent_names()]

    def languages(self) -> list[tuple[str, str]]:
        """(name, code) of the languages the knowledge base has: what an answer may be written in."""
        try:
            codes = self.ops.curation().languages()
        except NotReady:
            codes = set()
        return [(f"{language_name(c, 'en')} ({c})", c) for c in sorted(codes or {"en"})]

    def review_table(self) -> tuple[pd.DataFrame, str, Any, Any]:
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
        return (
            _frame(rows, TABLE_COLUMNS),
            summary,
            gr.update(choices=self.answer_choices()),
            gr.update(choices=self.languages()),
        )

    def review_pick(self, item_id: Any) -> tuple[Any, ...]:
        """(id, detail, the intent picked: the bot's guess, the language to write in: the question's)."""
        if self.assistant.review is None or item_id in (None, ""):
            return "", "Select an item in the table.", gr.update(), gr.update()
        try:
            item = self.ops.review.get(int(item_id))
        except NotFound:
            return "", "That item is gone.", gr.update(), gr.update()
        codes = {c for _, c in self.languages()}
        language = item.get("language") if item.get("language") in codes else None
        return (
            str(item["id"]),
            item_detail(item),
            gr.update(value=item["predicted"] or None),
            gr.update(value=language) if language else gr.update(),
        )

    def review_fine(self, item_id: str, same_text: bool, request: gr.Request) -> str:
        """The bot's reply was right."""
        return self._fix(
            item_id, lambda i: self.ops.fixes.fine(i, same_text=same_text, reviewer=_user(request))
        )

    def review_use(self, item_id: str, intent: str | None, same_text: bool, request: gr.Request) -> str:
        """The picked existing answer was the right one."""
        if not intent:
            raise gr.Error("Pick the right answer in the list first.")
        return self._fix(
            item_id, lambda i: self.ops.fixes.use(i, intent, same_text=same_text, reviewer=_user(request))
        )

    def review_write(
        self,
        item_id: str,
        answer: str,
        intent: str | None,
        new_intent: str,
        language: str | None,
        kind: str,
        same_text: bool,
        request: gr.Request,
    ) -> str:
        """The right answer, written: a draft template (or article) of the picked intent, or of a new one."""
        name = (new_intent or "").strip() or (intent or "")
        if not name:
            raise gr.Error("Pick the intent it answers, or name a new one.")
        return self._fix(
            item_id,
            lambda i: self.ops.fixes.write(
                i,
                answer,
                name,
                new_intent=bool((new_intent or "").strip()),
                language=language or None,
                snippet=kind == SNIPPET,
                same_text=same_text,
                reviewer=_user(request),
            ),
        )

    def _fix(self, item_id: str, action: Any) -> str:
        """Run one fix on the item; what it did in plain words (a Gradio error for a refusal)."""
        if self.assistant.review is None or not item_id:
            raise gr.Error("Select an item first.")
        try:
            done = action(int(item_id))
        except NotFound:
            raise gr.Error("That item is gone.") from None
        except (OperationError, NotReady) as exc:
            raise gr.Error(str(exc)) from None
        return f"Item {item_id}: {plain(done['said'])}"

    def review_discard(self, item_id: str, same_text: bool, request: gr.Request) -> str:
        """Nothing to learn from it: the item never becomes training data."""

        def discard(i: int) -> dict[str, Any]:
            done = self.ops.review.resolve(i, None, same_text=same_text, reviewer=_user(request))
            also = done.get("also_resolved", 0)
            more = f", and {also} more with the same text" if also else ""
            return {"said": f"Discarded{more}: it will not be used for training."}

        return self._fix(item_id, discard)
