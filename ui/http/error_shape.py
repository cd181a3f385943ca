"""The one error shape of the HTTP API, its handlers, and the body-size limit."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.pipeline import InputError, MessageIdConflict, NotReady

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


def error(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> JSONResponse:
    """The one error shape of the API: `{"error": {"code", "message"}}` (plus `extra` fields, e.g. a start-up's
    stage)."""
    body = {"code": code, "message": message, **(extra or {})}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


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

    @app.exception_handler(MessageIdConflict)
    async def _reused_key(request: Request, exc: MessageIdConflict) -> JSONResponse:
        return error(409, exc.code, str(exc))

    @app.exception_handler(NotReady)
    async def _starting(request: Request, exc: NotReady) -> JSONResponse:
        # The stage and progress let a client say how far along the start is (the widget's "Getting ready…").
        startup = exc.startup or {}
        extra = {k: startup[k] for k in ("stage", "progress") if k in startup}
        return error(503, "starting", str(exc), {"Retry-After": "5"}, extra)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error(500, "internal_error", "Something went wrong on our side; the error is logged.")
