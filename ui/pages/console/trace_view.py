"""The Trace tab's presenter (`TraceView`): recent turns by route, and one turn's trace."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ui.pages.console.view_helpers import ConsoleView, _frame, _short, _when
from ui.plain_text import inline_code, plain

TURN_COLUMNS = ["message", "route", "ms", "when (UTC)", "turn id"]


class TraceView(ConsoleView):
    """What the Trace tab reads: the turns the conversation store recorded, with their traces."""

    def recent_turns(self, route: str) -> pd.DataFrame:
        rows = self.store().recent_turns(route if route and route != "all" else None, limit=100)
        return _frame(
            [
                {
                    "turn id": r["id"],
                    "when (UTC)": _when(r["created_at"])[5:],
                    "message": _short(r["message"], 36),
                    "route": r["route"],
                    "ms": round(r["latency_ms"] or 0),
                }
                for r in rows
            ],
            TURN_COLUMNS,
        )

    def trace(self, turn_id: str) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
        turn_id = (turn_id or "").strip()
        empty = (
            pd.DataFrame(columns=["intent", "score"]),
            pd.DataFrame(columns=["score", "kind", "title", "language", "id"]),
            pd.DataFrame(columns=["stage", "ms"]),
        )
        if not turn_id:
            return "Enter a turn id, or click a turn in the list.", *empty, {}
        t = self.store().turn(turn_id)
        if t is None:
            return f"No turn {inline_code(turn_id)}.", *empty, {}
        tr = t["trace"] or {}
        decision = tr.get("decision", {})
        guard = tr.get("guard")
        intent = tr.get("intent", {})
        lines = [
            f"### Turn {inline_code(t['id'])}",
            f"**Session** {inline_code(t['session_id'])} · {_when(t['created_at'])} UTC · "
            f"**{round(t['latency_ms'] or 0)} ms**",
            f"> {plain(t['message'])}",
            f"**Language:** {inline_code(t['language'])} · **Intent:** {inline_code(t['intent'] or '—')} "
            f"({(t['confidence'] or 0):.3f})"
            + (f" · model {inline_code(intent.get('model'))}" if intent.get("model") else ""),
            f"**Route:** {inline_code(t['route'])} — "
            + plain(str(decision.get("reason", "")) or "no reason recorded"),
        ]
        if tr.get("rewritten"):
            lines.append(f"**Rewritten follow-up:** {plain(tr['rewritten'])}")
        if tr.get("slot"):
            lines.append(
                f"**Slot:** missing {inline_code(tr['slot'].get('missing'))} "
                f"for template {inline_code(tr['slot'].get('template'))}"
            )
        if guard:
            verdict = (
                "<span style='color:#16a34a'>passed</span>"
                if guard.get("ok")
                else "<span style='color:#dc2626'>rejected</span>"
            )
            extra = f", support {guard['support']}" if "support" in guard else ""
            fb = " → extractive answer used" if guard.get("fallback") else ""
            lines.append(f"**Grounding guard:** {verdict} ({plain(str(guard.get('reason', '')))}{extra}){fb}")
            if guard.get("draft"):
                lines.append(
                    f"<details><summary>Generator draft</summary>\n\n{plain(guard['draft'])}\n\n</details>"
                )
        else:
            lines.append("**Grounding guard:** not involved (no generated text)")
        if tr.get("injection"):
            lines.append("**Injection:** the message looked like prompt injection or markup")
        lines.append(f"**Reply:**\n\n{plain(t['reply'])}")
        ranking = pd.DataFrame(
            [{"intent": n, "score": float(p)} for n, p in intent.get("ranking", [])],
            columns=["intent", "score"],
        )
        passages = _frame(tr.get("retrieved", []), ["score", "kind", "title", "language", "id"])
        stages = pd.DataFrame(
            [{"stage": k, "ms": float(v)} for k, v in (tr.get("stages_ms") or {}).items()],
            columns=["stage", "ms"],
        )
        return "\n\n".join(lines), ranking, passages, stages, t
