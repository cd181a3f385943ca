"""The HTTP API (FastAPI): chat, streaming chat, sessions, health."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.pipeline import Assistant, InputError, NotReady
from assistant.schema import ChatReply, ChatRequest, ErrorResponse
from assistant.security import ADMIN_PREFIX, chat_access, read_access
from assistant.sources import logged_source
from assistant.streaming import turn_events
from assistant.surfaces import install_surfaces

log = logging.getLogger("lepton.api")

_ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape of the API: `{"error": {"code", "message"}}`."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class BodyLimit:
    """Refuse request bodies over their limit with 413 before anything reads them whole.

    `max_bytes` is the limit of every path; `larger` gives a few path prefixes their own (the knowledge
    base's uploads and edits); `exempt_prefixes` are limited elsewhere (the console, by its Gradio guard).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        exempt_prefixes: tuple[str, ...] = (),
        larger: tuple[tuple[str, int], ...] = (),
    ) -> None:
        self.app, self.max_bytes, self.exempt, self.larger = app, max_bytes, exempt_prefixes, larger

    def limit(self, path: str) -> int:
        return next((n for prefix, n in self.larger if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["path"])
        too_large = error(413, "payload_too_large", f"The body is larger than {limit} bytes.")
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await too_large(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """Raised by `receive` once a body without a (truthful) Content-Length passes its limit. An HTTP exception,
    because FastAPI turns any other error while it parses a body into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, {"code": "payload_too_large", "message": f"The body is larger than {limit} bytes."}
        )


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is not valid."


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON in the one error shape; never a traceback."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        kinds = {e.get("type") for e in exc.errors()}
        if "json_invalid" in kinds:
            return error(400, "invalid_json", "The body is not valid JSON (UTF-8).")
        return error(422, "invalid_request", _describe(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            return error(exc.status_code, exc.detail["code"], exc.detail.get("message", ""), exc.headers)
        return error(exc.status_code, _ERRORS.get(exc.status_code, "error"), str(exc.detail), exc.headers)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return error(422 if exc.code != "message_too_long" else 413, exc.code, str(exc))

    @app.exception_handler(NotReady)
    async def _starting(request: Request, exc: NotReady) -> JSONResponse:
        return error(503, "starting", str(exc), {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error(500, "internal_error", "Something went wrong on our side; the error is logged.")


def create_api(assistant: Assistant) -> FastAPI:
    """The FastAPI app for `assistant` (the UI mounts its pages on top)."""
    settings = assistant.settings
    app = FastAPI(
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
        exempt_prefixes=("/admin",),  # the console: capped by ui/gradio_guard.py
        # Documents and template files are uploaded and edited here: the upload cap, plus room for the
        # multipart framing around a file of exactly that size.
        larger=((f"{ADMIN_PREFIX}/kb/", settings.max_upload_bytes + 64 * 1024),),
    )
    install_surfaces(
        app, assistant
    )  # keys, CORS, rate limits, /v1/chat/completions, feedback, admin, webhooks

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        if not assistant.ready:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok", "intent_model": assistant.intent_version})

    @app.post(
        "/v1/chat",
        tags=["chat"],
        response_model=ChatReply,
        responses={
            200: {"content": {"text/event-stream": {}}},
            400: {"model": ErrorResponse},
            413: {"model": ErrorResponse},
            401: {"model": ErrorResponse},
            403: {"model": ErrorResponse},
            429: {"model": ErrorResponse},
        },
        dependencies=[Depends(chat_access)],
    )
    def chat(body: ChatRequest) -> Any:
        """Answer one message. With `"stream": true` the answer is `text/event-stream`: `token` events
        (`{"text"}`), then one `final` event whose data is the full reply object."""
        if body.stream:
            # Validate before the stream starts, so bad input is still a 4xx and not an event.
            assistant.validate_message(body.message)
            return StreamingResponse(
                _sse(assistant, body.message, body.session_id),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return assistant.chat(body.message, body.session_id)

    @app.get(
        "/v1/sessions/{session_id}",
        tags=["chat"],
        responses={k: {"model": ErrorResponse} for k in (401, 403, 404, 429)},
        dependencies=[Depends(read_access)],
    )
    def session_history(session_id: str) -> dict[str, Any]:
        """The turns of one session, oldest first (the widget polls it while a person has the session).
        Same key and origin rule as `/v1/chat`, with a larger rate limit of its own."""
        store = assistant.live_store()
        turns = store.history(session_id)
        if not turns:
            raise StarletteHTTPException(404, {"code": "not_found", "message": "No such session."})
        session = store.session(session_id)
        return {
            "session_id": session_id,
            "status": session.status,
            "turns": [
                {
                    **{
                        k: t[k]
                        for k in ("id", "created_at", "message", "reply", "route", "language", "intent")
                    },
                    # Older logs hold the server's file path: shown as kb:<name>, like every source today.
                    "sources": [logged_source(src) for src in t["sources"] or []],
                }
                for t in turns
            ],
            "messages": [
                {
                    "id": m["id"],
                    "role": "agent",
                    "agent": m["agent"],
                    "text": m["text"],
                    "created_at": m["created_at"],
                }
                for m in store.agent_messages(session_id)
            ],
        }

    return app


async def _sse(assistant: Assistant, message: str, session_id: str | None) -> AsyncIterator[str]:
    """`token` events (together exactly the final reply), then `final`; a client leaving cancels the turn."""
    async for kind, value in turn_events(assistant, message, session_id):
        if kind == "token":
            yield f"event: token\ndata: {json.dumps({'text': value}, ensure_ascii=False)}\n\n"
        elif kind == "final":
            yield f"event: final\ndata: {json.dumps(jsonable_encoder(value), ensure_ascii=False)}\n\n"
        else:
            body = {"error": {"code": "internal_error", "message": "The reply could not be produced."}}
            yield f"event: error\ndata: {json.dumps(body)}\n\n"
