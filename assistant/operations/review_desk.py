"""The review queue for every surface: list items, confirm or correct their intent, discard them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.config import Settings
from assistant.operations.operation_errors import Invalid, NotFound
from assistant.review_labels import Templates, UnknownIntent, check_label, known_intents
from training.review import ReviewQueue


class ReviewDesk:
    """The review queue of one home; `queue` gives the queue (the server's once loaded), `kb` the loaded
    knowledge base whose templates name intents (None: read from the home)."""

    def __init__(
        self, settings: Settings, queue: Callable[[], ReviewQueue], kb: Callable[[], Templates | None]
    ) -> None:
        self.settings = settings
        self.queue = queue
        self._kb = kb

    def known_intents(self) -> set[str]:
        """Intent names a label may use without being declared new."""
        return known_intents(self.settings, self._kb())

    def items(self, status: str | None = "pending", limit: int = 100) -> dict[str, Any]:
        """{items, counts}: items with `status` (None: any), newest first, and the count per status."""
        q = self.queue()
        return {"items": q.items(status or None, max(1, min(limit, 1000))), "counts": q.counts()}

    def get(self, item_id: int) -> dict[str, Any]:
        found = self.queue().get(item_id)
        if found is None:
            raise NotFound("No such review item.")
        return found

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
