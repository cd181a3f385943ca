"""The admin operations every surface calls (REST routers, console, CLI, schedule): one object per assistant,
so all of them share its locks and its retrain jobs. Access checks stay at each surface's door."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from assistant.operations.agent_desk import AgentDesk
from assistant.operations.answer_fix import AnswerFix
from assistant.operations.curation_ops import KnowledgeCuration
from assistant.operations.model_versions import ModelVersions
from assistant.operations.operation_errors import Conflict, Invalid, NotFound, OperationError
from assistant.operations.retraining import Retraining, RetrainRunning
from assistant.operations.review_desk import ReviewDesk
from assistant.turn import NotReady

if TYPE_CHECKING:
    from assistant.pipeline import Assistant
    from training.review import ReviewQueue

__all__ = [
    "Conflict",
    "Invalid",
    "NotFound",
    "OperationError",
    "Operations",
    "RetrainRunning",
    "operations_for",
]


class Operations:
    """Knowledge-base curation, review (and fixing an answer), agent actions, model versions and retrain jobs
    of one assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.agents = AgentDesk(assistant)
        self.models = ModelVersions(assistant)
        self.review = ReviewDesk(
            assistant.settings, self._review_queue, lambda: assistant.kb, lambda: assistant.store
        )
        self.fixes = AnswerFix(self.review, self.curation)  # "fix this answer" on a review item
        self.retraining = Retraining(assistant.settings, on_promoted=assistant.reload_intents)
        self._curation_lock = threading.RLock()  # the surfaces' KB changes, one at a time
        self._curation: KnowledgeCuration | None = None
        self._guard = threading.Lock()

    def _review_queue(self) -> ReviewQueue:
        self.assistant.live_store()
        assert self.assistant.review is not None
        return self.assistant.review

    def curation(self) -> KnowledgeCuration:
        """Curation of the loaded knowledge base; NotReady before the assistant has loaded it."""
        kb = self.assistant.kb
        if kb is None:
            raise NotReady("The knowledge base is still loading; try again in a moment.")
        with self._guard:  # page-load events run in parallel: open the curation database once
            if self._curation is None or self._curation.kb is not kb:
                self._curation = KnowledgeCuration(kb, self._curation_lock)
            return self._curation


_by_assistant: weakref.WeakKeyDictionary[Assistant, Operations] = weakref.WeakKeyDictionary()
_by_assistant_guard = threading.Lock()


def operations_for(assistant: Assistant) -> Operations:
    """The one `Operations` of `assistant` (made on first use), shared by every surface in the process."""
    with _by_assistant_guard:
        ops = _by_assistant.get(assistant)
        if ops is None:
            ops = _by_assistant[assistant] = Operations(assistant)
        return ops
