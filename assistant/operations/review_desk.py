"""The review queue for every surface: list items (each with the bot's reply, its sources and why it was queued,
in plain words), confirm or correct their intent, discard them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.config import Settings
from assistant.operations.operation_errors import Conflict, Invalid, NotFound
from assistant.review_labels import Templates, UnknownIntent, check_label, known_intents
from training.review import AlreadyReviewed, ReviewQueue

if TYPE_CHECKING:
    from assistant.conversations import ConversationStore

# Why an item was queued (assistant/review_hooks.py's reasons), as a support lead would say it.
REASON_WORDS = {
    "unanswered": "no answer found",
    "out_of_scope": "outside what the assistant covers",
    "low_confidence": "unsure which topic",
    "handoff": "handed to a person after the bot could not help",
    "thumbs_down": "the customer rated it down",
    "refused_as_injection": "refused as a possible injection",
}


def why_queued(reasons: str | None) -> list[str]:
    """Comma-separated reason codes in plain words, each once, in the order of REASON_WORDS (unknown ones as
    they are, last)."""
    codes = {r.strip() for r in (reasons or "").split(",") if r.strip()}
    known = [words for code, words in REASON_WORDS.items() if code in codes]
    return known + sorted(codes - REASON_WORDS.keys())


class ReviewDesk:
    """The review queue of one home; `queue` gives the queue (the server's once loaded), `kb` the loaded
    knowledge base whose templates name intents (None: read from the home), `turns` the conversation store the
    items' replies are read from (None, or a callable giving None: items come without them)."""

    def __init__(
        self,
        settings: Settings,
        queue: Callable[[], ReviewQueue],
        kb: Callable[[], Templates | None],
        turns: Callable[[], ConversationStore | None] | None = None,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self._kb = kb
        self._turns = turns

    def known_intents(self) -> set[str]:
        """Intent names a label may use without being declared new."""
        return known_intents(self.settings, self._kb())

    def items(
        self, status: str | None = "pending", limit: int = 100, *, grouped: bool = False
    ) -> dict[str, Any]:
        """{items, counts}: items with `status` (None: any), newest first, and the count per status. Each item
        says why it was queued (`why`, plain words) and what the bot answered (`reply`, `route`, `sources`).
        `grouped`: a question asked by many is one item, `copies` counting them (their reasons all in `why`)."""
        q = self.queue()
        items = q.items(status or None, max(1, min(limit, 1000)), grouped=grouped)
        return {"items": self._explained(items, grouped), "counts": q.counts()}

    def get(self, item_id: int) -> dict[str, Any]:
        """One item, explained as in `items` (`why` covers the pending copies of its text)."""
        found = self.queue().get(item_id)
        if found is None:
            raise NotFound("No such review item.")
        return self._explained([found], True)[0]

    def _explained(self, items: list[dict[str, Any]], with_copies: bool) -> list[dict[str, Any]]:
        replies = self._replies([str(i["turn_id"]) for i in items])
        out = []
        for item in items:
            reasons = item["reasons"] or ""
            if with_copies and item.get("status") == "pending":
                reasons = f"{reasons},{item.get('copies_reasons') or ''}"
            turn = replies.get(str(item["turn_id"]), {})
            out.append(
                {
                    **item,
                    "why": why_queued(reasons),
                    "reply": turn.get("reply"),
                    "route": turn.get("route"),
                    "sources": turn.get("sources", []),
                }
            )
        return out

    def _replies(self, turn_ids: list[str]) -> dict[str, dict[str, Any]]:
        """{turn id: {reply, route, sources}} of the turns still in the conversation store."""
        store = self._turns() if self._turns is not None else None
        if store is None or not turn_ids:
            return {}
        found = store.replies(turn_ids)
        return {tid: {**row, "sources": _sources(row["sources"])} for tid, row in found.items()}

    def resolve(
        self,
        item_id: int,
        intent: str | None,
        *,
        new: bool = False,
        same_text: bool = False,
        reviewer: str = "admin",
        check: bool = True,
    ) -> dict[str, Any]:
        """Confirm or correct the item's intent (it joins the training data), or discard it (`intent` None).

        With `check` the intent must be one the assistant knows unless declared `new` (Invalid otherwise):
        a typo would become a class of its own. `same_text` answers every pending copy the same way."""
        queue = self.queue()
        if queue.get(item_id) is None:
            raise NotFound("No such review item.")
        if intent is not None and check:
            try:
                intent = check_label(intent, self.known_intents(), new=new)
            except UnknownIntent as exc:
                raise Invalid(str(exc)) from None
        try:
            return queue.resolve(item_id, intent, reviewer=reviewer, same_text=same_text)
        except KeyError:  # removed meanwhile
            raise NotFound("No such review item.") from None
        except AlreadyReviewed as exc:  # by another reviewer (or replica) since it was listed
            done = exc.item
            by = f" by {done['reviewer']}" if done.get("reviewer") else ""
            raise Conflict(f"This item was already reviewed{by}: {done['status']}.") from None


def _sources(raw: str | None) -> list[dict[str, Any]]:
    """A turn's stored sources (JSON), each as {id, title, uri, url}: what the reply drew on."""
    try:
        listed = json.loads(raw or "[]")
    except ValueError:
        return []
    keep = ("id", "title", "uri", "url")
    return [{k: s.get(k) for k in keep} for s in listed if isinstance(s, dict)]
