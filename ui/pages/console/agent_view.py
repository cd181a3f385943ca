"""The Agent view tab's presenter (`AgentView`): the waiting list (who has each, for how long), a conversation
with the customer's context, assign, canned replies, reply, close; and the console's "waiting" badge."""

from __future__ import annotations

import time
from typing import Any

import gradio as gr
import pandas as pd

from assistant.operations import Conflict, Invalid, NotFound
from ui.pages.console.view_helpers import ConsoleView, _frame, _short, _user, _when
from ui.plain_text import inline_code, plain

HANDOFF_COLUMNS = ["waiting", "assigned to", "last message", "lang.", "session"]
NOBODY = "—"


def waited(seconds: float) -> str:
    """A wait as people say it: "45 s", "12 min", "3 h 05 min"."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def badge_html(count: int) -> str:
    """The console header's badge: how many conversations wait for a person."""
    if count <= 0:
        return '<span id="ag-badge-count" data-count="0" class="ag-badge idle">No one waiting</span>'
    noun = "conversation waits" if count == 1 else "conversations wait"
    return (
        f'<span id="ag-badge-count" data-count="{count}" class="ag-badge">'
        f"🔔 <b>{count}</b> {noun} for a person</span>"
    )


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
                    "waiting": waited(r["waiting_s"]),
                    "assigned to": r["agent"] or NOBODY,
                    "last message": _short(r["last_message"], 70),
                }
                for r in rows
            ],
            HANDOFF_COLUMNS,
        )

    def waiting(self) -> tuple[str, int | None]:
        """The badge and the count behind it (None while the assistant starts: no alert)."""
        a = self.assistant
        if not a.ready or a.store is None:
            return gr.skip(), None
        count = self.ops.agents.waiting_count()
        return badge_html(count), count

    def conversation(self, session_id: str | None) -> tuple[list[dict[str, Any]], str]:
        """The conversation as the chat shows it, and the customer's context above it."""
        if not session_id:
            return [], "Select a session on the left."
        self.store()
        try:
            ctx = self.ops.agents.context(session_id)
        except NotFound:
            return [], "No such session."
        events: list[tuple[float, int, dict[str, Any]]] = []
        for t in ctx["turns"]:
            events.append((t["created_at"], 0, {"role": "user", "content": plain(t["message"])}))
            if not t["reply"]:  # logged for the agent while the customer waited: the bot said nothing
                continue
            label = "Bot" + (" (handoff)" if t["route"] == "handoff" else "")
            events.append(
                (t["created_at"], 1, {"role": "assistant", "content": f"**{label}:** {plain(t['reply'])}"})
            )
        for m in ctx["messages"]:
            content = f"**Agent {plain(m['agent'])}:** {plain(m['text'])}"
            events.append((m["created_at"], 2, {"role": "assistant", "content": content}))
        events.sort(key=lambda e: (e[0], e[1]))
        return [e[2] for e in events], self._context_text(session_id, ctx)

    @staticmethod
    def _context_text(session_id: str, ctx: dict[str, Any]) -> str:
        """The session line, then the customer's language, the order numbers mentioned, earlier sessions."""
        waiting = ""
        if ctx["status"] == "handoff" and ctx["waiting_since"]:
            waiting = f" · waiting {waited(time.time() - ctx['waiting_since'])}"
        mentioned = [
            f"{plain(name.replace('_', ' '))}: " + ", ".join(inline_code(v) for v in values)
            for name, values in ctx["mentioned"].items()
        ]
        earlier = ctx["earlier_sessions"]
        lines = [
            f"Session {inline_code(session_id)} · status **{ctx['status']}**{waiting} · "
            f"assigned to **{plain(ctx['agent'] or NOBODY)}** · "
            f"{len(ctx['turns'])} customer turns, {len(ctx['messages'])} agent messages",
            f"**Language:** {inline_code(ctx['language'] or '?')}",
            "**Mentioned:** " + ("; ".join(mentioned) if mentioned else "no order numbers"),
            f"**Earlier sessions of this customer:** {len(earlier) or 'none known'}",
        ]
        listed = "\n".join(
            f"- {_when(e['created_at'])[:16]} UTC · {e['turns']} turns · {e['status']} · "
            f"{plain(_short(e['first_message'], 60))} ({inline_code(e['id'])})"
            for e in earlier
        )
        return "\n\n".join(lines) + ("\n" + listed if listed else "")

    def canned_choices(self, session_id: str | None) -> Any:
        """The canned replies (templates in the customer's language) for the dropdown."""
        if not session_id or not self.assistant.ready:
            return gr.update(choices=[], value=None)
        replies = self.ops.agents.canned(session_id)
        return gr.update(choices=[(f"{r['title']} ({r['id']})", r["id"]) for r in replies], value=None)

    def canned_text(self, session_id: str | None, template_id: str | None) -> Any:
        """The picked canned reply, into the reply box to edit before sending."""
        if not session_id or not template_id:
            return gr.skip()
        self.store()
        for r in self.ops.agents.canned(session_id):
            if r["id"] == template_id:
                return r["text"]
        return gr.skip()

    def assign(
        self, session_id: str | None, agent: str | None, request: gr.Request
    ) -> tuple[list[dict[str, Any]], str]:
        """Assign the session to `agent` (empty: to the console user)."""
        if not session_id:
            raise gr.Error("Select a session first.")
        self.store()
        name = (agent or "").strip() or _user(request)
        try:
            self.ops.agents.assign(session_id, name)
        except NotFound:
            raise gr.Error("No such session.") from None
        except (Conflict, Invalid) as exc:
            raise gr.Error(str(exc)) from None
        gr.Info(f"Assigned to {name}.")
        return self.conversation(session_id)

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

    def agent_close(self, session_id: str | None, request: gr.Request) -> tuple[list[dict[str, Any]], str]:
        if not session_id:
            raise gr.Error("Select a session first.")
        self.store()
        try:
            self.ops.agents.close(session_id, agent=_user(request))
        except NotFound:
            raise gr.Error("No such session.") from None
        gr.Info("Session closed: the customer was told, and the bot answers their next message.")
        return self.conversation(session_id)
