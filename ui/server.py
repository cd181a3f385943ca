"""One process: the HTTP API with the Gradio pages mounted on it."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

import gradio as gr
from fastapi import FastAPI

from assistant.api import create_api
from assistant.config import Settings
from assistant.pipeline import Assistant
from ui.chat_page import build_chat_page

log = logging.getLogger("lepton.server")


def create_server(settings: Settings, assistant: Assistant | None = None, warm_in_background: bool = True) -> FastAPI:
    """The FastAPI app with the chat page at `/`; models warm up in the background (`/healthz` says when)."""
    assistant = assistant or Assistant(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_in_background:
            threading.Thread(target=_warm, args=(assistant,), daemon=True, name="warm-up").start()
        else:
            _warm(assistant)
        yield

    app = create_api(assistant)
    app.router.lifespan_context = lifespan
    return gr.mount_gradio_app(app, build_chat_page(assistant), path="/", footer_links=[])


def _warm(assistant: Assistant) -> None:
    try:
        assistant.warm_up()
        log.info("ready")
    except Exception:
        log.exception("warm-up failed; /healthz stays 503")
