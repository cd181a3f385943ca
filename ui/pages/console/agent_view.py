"""The Agent view tab's presenter (`AgentView`): handed-off sessions, a conversation, reply, close."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.operations import NotFound
from ui.pages.console.view_helpers import ConsoleView, _frame, _short, _user, _when
from ui.plain_text import inline_code, plain

HANDOFF_COLUMNS = ["last message", "since (UTC)", "lang.", "session"]


class AgentView(ConsoleView):
    """What the Agent view tab reads and does, through the agent-desk operations."""

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
