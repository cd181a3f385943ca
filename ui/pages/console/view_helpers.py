"""What the console's views (`*_view.py`) share: the base view over the assistant and its operations, and
small formatting helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import gradio as gr
import pandas as pd

from assistant.conversations import HANDOFF, ConversationStore
from assistant.operations import operations_for
from assistant.pipeline import Assistant


def _when(ts: float | None) -> str:
    """A timestamp as UTC date and time ("" for none)."""
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(float(ts), tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _short(text: str | None, n: int = 90) -> str:
    """`text` on one line, cut to `n` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def _user(request: gr.Request | None) -> str:
    """Who is logged in to the console (the actor recorded in audit logs)."""
    return (getattr(request, "username", None) or "admin")[:80]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A table of `rows` with exactly `columns`, in that order (empty rows keep the header)."""
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


class ConsoleView:
    """A tab's presenter: holds the assistant and reads live state in every handler, nothing is cached. The
    work is done by the assistant's operations (assistant/operations/), the same the REST API, the CLI and the
    retrain schedule use: one retrain lock, one job status."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.ops = operations_for(assistant)

    def store(self) -> ConversationStore:
        """The live conversation store; a Gradio error while the assistant is still starting."""
        a = self.assistant
        if not a.ready or a.store is None:
            raise gr.Error("The assistant is still starting; try again in a moment.")
        return a.store

    def header(self) -> str:
        """The console's header line, which tabs refresh after their changes."""
        a = self.assistant
        if not a.ready or a.store is None:
            return "Starting… models are loading."
        counts = a.store.counts()
        handoffs = len(a.store.sessions_with_status(HANDOFF, limit=1000))
        pending = a.review.counts().get("pending", 0) if a.review else 0
        kb = a.kb.stats() if a.kb else {}
        return (
            f"**{counts['sessions']}** conversations · **{counts['turns']}** customer turns · "
            f"**{handoffs}** waiting for an agent · **{pending}** to review · "
            f"knowledge base: **{kb.get('documents', 0)}** documents, **{kb.get('templates', 0)}** templates · "
            f"intent model **{a.intent_version or '—'}**"
        )
