"""The admin console's page (Gradio), mounted at `/admin` behind an admin-key login: the header, then one
tab per module (knowledge base, review queue, training, analytics, turn trace, agent view), in that order."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gradio as gr

from assistant.keys import KeyStore
from assistant.pipeline import Assistant
from ui.http.console_guard import LOGIN_KEY
from ui.pages.console.agent_tab import build_agent_tab, build_handoff_alert
from ui.pages.console.agent_view import AgentView
from ui.pages.console.analytics_tab import build_analytics_tab
from ui.pages.console.analytics_view import AnalyticsView
from ui.pages.console.kb_tab import build_kb_tab
from ui.pages.console.kb_view import KbView
from ui.pages.console.review_tab import build_review_tab
from ui.pages.console.review_view import ReviewView
from ui.pages.console.tab_helpers import PRIVATE
from ui.pages.console.trace_tab import build_trace_tab
from ui.pages.console.trace_view import TraceView
from ui.pages.console.training_tab import build_training_tab
from ui.pages.console.training_view import TrainingView
from ui.pages.console.view_helpers import ConsoleView

log = logging.getLogger("lepton.admin")

TITLE = "Lepton · Admin console"

CSS = """
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.kpi { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 12px 14px;
       background: var(--background-fill-secondary); }
.kpi .v { font-size: 1.6em; font-weight: 650; line-height: 1.2; }
.kpi .l { font-size: 0.85em; color: var(--body-text-color-subdued); }
.lepton-head h1 { margin-bottom: 0; }
.trace-box { font-size: 0.95em; }
.ag-badge { display: inline-block; padding: 4px 12px; border-radius: 999px; font-size: 0.95em;
            background: #d93025; color: #fff; }
.ag-badge.idle { background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
"""


def admin_auth(keys: KeyStore) -> Callable[[str, str], bool]:
    """Gradio's login check: any user name, and a live admin key as the password."""

    def check(username: str, password: str) -> bool:
        info = keys.verify((password or "").strip())
        ok = info is not None and info.kind == "admin"
        # Gradio's session for this login is bound to the key (ui/http/console_guard.py): revoking it ends it.
        LOGIN_KEY.set(info.id if ok and info is not None else None)
        log.info("admin console login %s for %r", "accepted" if ok else "refused", username)
        return ok

    return check


def build_admin_page(assistant: Assistant) -> gr.Blocks:
    """The admin console's Blocks (mount with `admin_auth` as `auth` and `CSS` as `css`)."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as page:
        with gr.Row(elem_classes="lepton-head"):
            gr.Markdown(
                f"# {TITLE}\nKestrel Home & Tech help centre — knowledge, review, training, analytics, agents."
            )
            build_handoff_alert(AgentView(assistant))
            gr.Button("Log out", link="/admin/logout", size="sm", scale=0, variant="secondary")
        header = gr.Markdown(elem_id="admin-header")
        # The page's first event (fn 0): the header, which the tabs refresh after their changes.
        page.load(ConsoleView(assistant).header, None, header, **PRIVATE)

        with gr.Tabs() as tabs:
            build_kb_tab(KbView(assistant), page, header)
            build_review_tab(ReviewView(assistant), page, header)
            build_training_tab(TrainingView(assistant), page)
            unanswered = build_analytics_tab(AnalyticsView(assistant), page)
            trace = build_trace_tab(TraceView(assistant), page)
            build_agent_tab(AgentView(assistant), page)
        # Analytics' unanswered questions open in the Trace tab (column 4: the turn id).
        trace.open_from(unanswered, 4, tabs)
    return page
