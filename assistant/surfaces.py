"""Wires the customer and admin surfaces onto the API: keys, CORS, rate limits, OpenAI face, feedback,
admin reads and webhooks."""

from __future__ import annotations

from fastapi import FastAPI

from assistant.admin import admin_router
from assistant.admin_actions import actions_router
from assistant.cors import WidgetCORS
from assistant.feedback import feedback_router
from assistant.kb_admin import kb_admin_router
from assistant.openai_compat import openai_router
from assistant.pipeline import Assistant
from assistant.security import AdminGuard, Security
from assistant.webhooks import install_webhooks


def install_surfaces(app: FastAPI, assistant: Assistant) -> Security:
    """Call after the app's other middleware: the admin guard and CORS must be the outermost layers."""
    settings = assistant.settings
    security = Security.from_settings(settings)
    app.state.security = security
    app.add_middleware(AdminGuard, security=security)
    app.add_middleware(WidgetCORS, keys=security.keys)  # outermost: even refusals carry CORS headers
    app.include_router(openai_router(assistant))
    app.include_router(feedback_router(assistant))
    app.include_router(admin_router(assistant))
    app.include_router(actions_router(assistant))
    app.include_router(kb_admin_router(assistant))
    install_webhooks(assistant, settings)
    return security
