"""The one place that builds the HTTP app: the API (routers, middleware, error shape) with the Gradio pages
mounted on it, and the background work one server process runs (warm-up, retrain schedule, model watch)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import gradio as gr
from fastapi import FastAPI, HTTPException
from fastapi.responses import RedirectResponse
from fastapi_offline import FastAPIOffline

from assistant.config import Settings
from assistant.operations import operations_for
from assistant.operations.retrain_schedule import RetrainSchedule
from assistant.pipeline import Assistant
from assistant.schema import ErrorResponse
from assistant.webhooks import install_webhooks
from ui.http.admin_routes import admin_router
from ui.http.answer_fix_routes import answer_fix_router
from ui.http.chat_routes import chat_router
from ui.http.console_guard import guard_console
from ui.http.cors import WidgetCORS
from ui.http.error_shape import BodyLimit, install_error_handlers
from ui.http.feedback_routes import feedback_router
from ui.http.gradio_guard import guard_gradio
from ui.http.kb_routes import kb_admin_router
from ui.http.model_routes import actions_router
from ui.http.openai_routes import openai_router
from ui.http.security import ADMIN_PREFIX, AdminGuard, Security
from ui.http.widget_route import widget_router
from ui.pages.chat import build_chat_page
from ui.pages.console import CSS as ADMIN_CSS
from ui.pages.console import admin_auth, build_admin_page

log = logging.getLogger("lepton.server")


def create_api(assistant: Assistant) -> FastAPI:
    """The API alone (no pages): error shape, body limits, keys, CORS, rate limits, every router, webhooks."""
    settings = assistant.settings
    # Swagger UI and ReDoc from the fastapi-offline package: nothing is fetched from a CDN.
    app = FastAPIOffline(
        title="Lepton",
        version="0.1.0",
        description='Self-hosted customer-service assistant. Errors are `{"error": {"code", "message"}}`.',
        responses={422: {"model": ErrorResponse}},
    )
    app.state.assistant = assistant
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        exempt_prefixes=("/admin",),  # the console: capped by ui/http/gradio_guard.py
        # Documents and template files are uploaded and edited here: the upload cap, plus room for the
        # multipart framing around a file of exactly that size.
        larger=((f"{ADMIN_PREFIX}/kb/", settings.max_upload_bytes + 64 * 1024),),
    )
    security = Security.from_settings(settings)
    app.state.security = security
    # Added last, so outermost: the admin guard, then CORS (even refusals carry CORS headers).
    app.add_middleware(AdminGuard, security=security)
    app.add_middleware(WidgetCORS, keys=security.keys)
    app.include_router(openai_router(assistant))
    app.include_router(feedback_router(assistant))
    app.include_router(admin_router(assistant))
    app.include_router(actions_router(assistant))
    app.include_router(answer_fix_router(assistant))
    app.include_router(kb_admin_router(assistant))
    app.include_router(chat_router(assistant))
    install_webhooks(assistant, settings)
    return app


def create_server(
    settings: Settings, assistant: Assistant | None = None, warm_in_background: bool = True
) -> FastAPI:
    """The FastAPI app with the chat page at `/` and the admin console at `/admin`; models warm up in the
    background (`/healthz` says when). With `require_widget_key` there is no chat page (it could not hold a
    key): customers chat through the widget."""
    assistant = assistant or Assistant(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_in_background:
            threading.Thread(target=_warm, args=(assistant, True), daemon=True, name="warm-up").start()
        else:
            _warm(assistant)
        yield

    app = create_api(assistant)
    app.router.lifespan_context = lifespan

    @app.get("/admin", include_in_schema=False)
    def admin_slash() -> RedirectResponse:
        """The console lives at /admin/ (its mount); the address people type has no slash."""
        return RedirectResponse("/admin/", status_code=307)

    app.include_router(widget_router(settings))  # before the Gradio mount at `/`, which would swallow it

    @app.api_route(
        "/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
    )
    def unknown_api(rest: str) -> None:
        """Unknown API paths get the API's error shape, not the Gradio mount's."""
        raise HTTPException(404, {"code": "not_found", "message": "No such API endpoint (or method)."})

    # Before any Blocks exist: Gradio's file checks are strict, its file/upload/proxy routes guarded.
    guard_gradio(app, settings.max_upload_bytes)
    # The admin console first: the chat page's mount at "/" would swallow "/admin".
    app = gr.mount_gradio_app(
        app,
        build_admin_page(assistant),
        path="/admin",
        footer_links=[],
        max_file_size=settings.max_upload_bytes,
        auth=admin_auth(app.state.security.keys),
        auth_message="Lepton admin console: sign in with any user name and an admin key "
        "(<code>lepton keys create --kind admin</code>) as the password.",
        theme=gr.themes.Soft(primary_hue="indigo", secondary_hue="slate"),
        css=ADMIN_CSS,
    )
    guard_console(app, app.state.security.keys)  # sessions end with their key; no CORS, no framing
    security = app.state.security
    if security.require_widget_key:

        @app.get("/", include_in_schema=False)
        def no_chat_page() -> None:
            raise HTTPException(
                404,
                {
                    "code": "not_found",
                    "message": "There is no chat page here: chat with us through the widget on our website.",
                },
            )

        return app
    return gr.mount_gradio_app(
        app,
        build_chat_page(assistant, security),
        path="/",
        footer_links=[],
        max_file_size=settings.max_body_bytes,  # it takes no files; Gradio's own cap, should one appear
    )


def _warm(assistant: Assistant, train_in_background: bool = False) -> None:
    try:
        # A first start answers as soon as the knowledge base is in; its intent model follows.
        assistant.warm_up(train_in_background=train_in_background)
    except Exception:
        log.exception("warm-up failed; /healthz stays 503")
        return
    settings = assistant.settings
    RetrainSchedule(
        operations_for(assistant).retraining,  # the console's and the API's job and lock
        every_reviewed=settings.retrain_every_reviewed,
        interval_h=settings.retrain_interval_hours,
    ).start()
    _watch_models(assistant)


def _watch_models(assistant: Assistant) -> None:
    """Pick up a newly promoted (or rolled back) intent model or generator adapter without a restart or a
    dropped request."""

    def loop() -> None:
        while True:
            time.sleep(assistant.settings.model_poll_s)
            for what, reload in (
                ("intent model", assistant.reload_intents),
                ("generator adapter", assistant.reload_generator),
            ):
                try:
                    reload()
                except Exception:
                    log.exception("could not load the promoted %s; the previous one keeps serving", what)

    threading.Thread(target=loop, daemon=True, name="model-watch").start()
