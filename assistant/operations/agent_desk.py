"""What a person does with handed-off sessions: list them (who has each, how long it waits), assign one, read
the customer's context, take one over, reply (from a canned reply or not), close (a closing message to the
customer, and back to the bot)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from assistant import messages
from assistant.conversations import CLOSED, HANDOFF, ConversationStore
from assistant.operations.operation_errors import Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from assistant.pipeline import Assistant

MAX_AGENT_NAME = 80
EARLIER_SESSIONS = 10
_TURN_FIELDS = ("id", "created_at", "message", "reply", "route", "language", "intent")


class AgentDesk:
    """Agent actions on the assistant's conversation log (NotReady until the assistant has loaded)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def store(self) -> ConversationStore:
        return self.assistant.live_store()

    def handoffs(self, limit: int = 100) -> list[dict[str, Any]]:
        """Sessions waiting for a person, most recent first: who has each (`agent`, None: nobody yet) and how
        long it has waited (`waiting_s`)."""
        now = time.time()
        rows = self.store().sessions_with_status(HANDOFF, limit=limit)
        for row in rows:
            row["waiting_s"] = round(max(0.0, now - (row["waiting_since"] or now)), 1)
            row.pop("user_ref", None)  # a digest, for `context` only
        return rows

    def waiting_count(self) -> int:
        return self.store().count_with_status(HANDOFF)

    def takeover(self, session_id: str) -> dict[str, Any]:
        """Take a session away from the bot."""
        if not self.store().set_status(session_id, HANDOFF):
            raise NotFound("No such session.")
        return {"session_id": session_id, "status": HANDOFF}

    def assign(self, session_id: str, agent: str) -> dict[str, Any]:
        """Give a waiting session to `agent` (the console user or another agent's name)."""
        agent = (agent or "").strip()[:MAX_AGENT_NAME]
        if not agent:
            raise Invalid("Name the agent.")
        store = self.store()
        if not store.history(session_id, limit=1):
            raise NotFound("No such session.")
        if not store.assign(session_id, agent, waiting=True):  # one statement: closed meanwhile, not given
            raise Conflict("The session is not waiting for a person.")
        return {"session_id": session_id, "status": HANDOFF, "agent": agent}

    def reply(self, session_id: str, text: str, agent: str) -> dict[str, Any]:
        """A person answers in the session (taking it over if the bot still had it, and having it if nobody
        did); the stored message."""
        store = self.store()
        if not store.history(session_id, limit=1):
            raise NotFound("No such session.")
        store.set_status(session_id, HANDOFF)
        store.assign(session_id, agent, unassigned=True)  # whoever has it keeps it
        return store.add_agent_message(session_id, text, agent)

    def close(self, session_id: str, agent: str = "agent") -> dict[str, Any]:
        """Hand the session back: the customer gets a closing message in their language (in the agent's name),
        then the bot answers their next message, with a clean failure count."""
        store = self.store()
        if not store.history(session_id, limit=1):
            raise NotFound("No such session.")
        session = store.session(session_id)
        closing = messages.text("handoff_closed", session.language or "en")
        # Not twice (two agents closing at once), nor to a customer the bot is talking to; the message and the
        # status in one transaction: whoever sees the session closed sees the message (the widget stops polling).
        sent = store.close_handoff(session_id, closing, session.agent or agent)
        if sent is None:
            store.set_status(session_id, CLOSED)
        self.assistant._emit("handoff_closed", {"session_id": session_id})
        return {"session_id": session_id, "status": CLOSED, "message": sent}

    def context(self, session_id: str) -> dict[str, Any]:
        """What the agent should know about the customer: their language, the conversation so far (turns and
        agent messages, oldest first), the order numbers and other slot values mentioned, and their earlier
        sessions where the integrator named the user."""
        store = self.store()
        turns = store.history(session_id, limit=500)
        if not turns:
            raise NotFound("No such session.")
        session = store.session(session_id)
        return {
            "session_id": session_id,
            "status": session.status,
            "language": session.language,
            "agent": session.agent,
            "waiting_since": session.waiting_since,
            "turns": [{k: t[k] for k in _TURN_FIELDS} for t in turns],
            "messages": store.agent_messages(session_id),
            "mentioned": self._mentioned(turns, session.slots),
            "earlier_sessions": self._earlier(store, session_id, session.user_ref),
        }

    def _mentioned(self, turns: list[dict[str, Any]], known: dict[str, str]) -> dict[str, list[str]]:
        """Slot values (order numbers…) found in the customer's messages, by slot name, first seen first."""
        kb = self.assistant.kb
        slots = kb.slots() if kb is not None else {}
        found: dict[str, list[str]] = {}
        for name, value in known.items():
            if value:
                found.setdefault(name, []).append(str(value))
        for turn in turns:
            for name, slot in slots.items():
                for value in slot.find_all(turn["message"] or ""):
                    if value not in found.get(name, []):
                        found.setdefault(name, []).append(value)
        return found

    @staticmethod
    def _earlier(store: ConversationStore, session_id: str, user_ref: str | None) -> list[dict[str, Any]]:
        if not user_ref:
            return []
        return store.earlier_sessions(user_ref, session_id, EARLIER_SESSIONS)

    def canned(self, session_id: str) -> list[dict[str, str]]:
        """Replies to start from: the live templates in the customer's language (English where none), with
        the slot values the conversation mentioned filled in (the agent edits the rest)."""
        store = self.store()
        session = store.session(session_id)
        kb = self.assistant.kb
        if kb is None:
            return []
        language = session.language or "en"
        templates = kb.templates(language=language) or kb.templates(language="en")
        values = {
            name: found[0]
            for name, found in self._mentioned(store.history(session_id), session.slots).items()
        }
        out = []
        for t in templates:
            text = t.answer
            for name, value in values.items():
                text = text.replace("{" + name + "}", value)
            out.append({"id": t.id, "title": t.title, "language": t.language, "text": text})
        return out
