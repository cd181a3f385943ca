"""The Analytics tab's presenter (`AnalyticsView`): KPIs and chart data over a time window."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from assistant import analytics
from ui.pages.console.view_helpers import ConsoleView, _frame, _when

WINDOWS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "All time": 0}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


class AnalyticsView(ConsoleView):
    """What the Analytics tab reads: the summary of the conversation store over a window."""

    def analytics_view(self, window: str) -> tuple[Any, ...]:
        s = analytics.summary(self.store(), WINDOWS.get(window, 30) or None)
        r, f = s["resolution"], s["feedback"]
        cards = [
            ("Conversations", f"{r['sessions']}"),
            ("Customer turns", f"{r['customer_turns']}"),
            ("Resolution rate", _pct(r["resolution_rate"])),
            ("Handed to a person", _pct(r["handoff_rate"])),
            (
                "Thumbs up (of rated)",
                _pct(f["up_rate"]) + f" <small>({f['up']} up / {f['down']} down)</small>",
            ),
            ("Unanswered turns", f"{s['routes'].get('fallback', 0)}"),
        ]
        kpis = (
            '<div class="kpis">'
            + "".join(
                f'<div class="kpi"><div class="v">{v}</div><div class="l">{html.escape(k)}</div></div>'
                for k, v in cards
            )
            + "</div>"
        )
        per_day = pd.DataFrame(s["per_day"], columns=["day", "conversations", "turns", "handoffs"])
        routes = pd.DataFrame(
            [{"route": k, "turns": v} for k, v in s["routes"].items()], columns=["route", "turns"]
        )
        intents = pd.DataFrame(s["top_intents"], columns=["intent", "turns", "mean_confidence"])
        unanswered = _frame(
            [{**u, "last seen (UTC)": _when(u["last_seen"])} for u in s["top_unanswered"]],
            ["question", "count", "language", "last seen (UTC)", "last_turn_id"],
        )
        lat_rows = []
        for row in s["latency"]:
            lat_rows.append({"route": row["route"], "stat": "p50", "ms": row["p50_ms"]})
            lat_rows.append({"route": row["route"], "stat": "p95", "ms": row["p95_ms"]})
        latency_plot = pd.DataFrame(lat_rows, columns=["route", "stat", "ms"])
        if not latency_plot.empty:
            latency_plot["bar"] = latency_plot["route"] + " " + latency_plot["stat"]
        else:
            latency_plot["bar"] = []
        latency = _frame(s["latency"], ["route", "turns", "p50_ms", "p95_ms", "max_ms"])
        feedback_plot = pd.DataFrame(
            [{"rating": "thumbs up", "turns": f["up"]}, {"rating": "thumbs down", "turns": f["down"]}]
        )
        return kpis, per_day, routes, intents, unanswered, latency_plot, latency, feedback_plot
