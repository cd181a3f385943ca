"""What a person does with handed-off sessions: list them, take one over, reply, close (hand back to the bot)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.conversations import CLOSED, HANDOFF, ConversationStore
from assistant.operations.operation_errors import NotFound

if TYPE_CHECKING:
    from assistant.pipeline import Assistant


class AgentDesk:
    """Agent actions on the assistant's conversation log (NotReady until the assistant has loaded)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def store(self) -> ConversationStore:
        return self.assistant.live_store()

    def handoffs(self, limit: int = 100) -> list[dict[str, Any]]:
        """Sessions waiting for a person, most recent first."""
        return self.store().sessions_with_status(HANDOFF, limit=limit)

    def takeover(self, session_id: str) -> dict[str, Any]:
        """Take a session away from the bot."""
        if not self.store().set_status(session_id, HANDOFF):
            raise NotFound("No such session.")
        return {"session_id": session_id, "status": HANDOFF}

    def reply(self, session_id: str, text: str, agent: str) -> dict[str, Any]:
        """A person answers in the session (taking it over if the bot still had it); the stored message."""
        store = self.store()
        if not store.history(session_id, limit=1):
            raise NotFound("No such session.")
        store.set_status(session_id, HANDOFF)
        return store.add_agent_message(session_id, text, agent)

    def close(self, session_id: str) -> dict[str, Any]:
        """Hand the session back: the bot answers the customer's next message, with a clean failure count."""
        if not self.store().set_status(session_id, CLOSED):
            raise NotFound("No such session.")
        self.assistant._emit("handoff_closed", {"session_id": session_id})
        return {"session_id": session_id, "status": CLOSED}
