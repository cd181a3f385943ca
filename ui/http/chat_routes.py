"""The customer's routes: chat (plain or streamed), a session's history, and health."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.pipeline import Assistant
from assistant.schema import ChatReply, ChatRequest, ErrorResponse
from assistant.sources import logged_source
from assistant.streaming import turn_events
from ui.http.security import chat_access, read_access


def chat_router(assistant: Assistant) -> APIRouter:
    """`/healthz`, `/v1/chat` and `/v1/sessions/{id}` for `assistant`."""
    router = APIRouter()

    @router.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """503 while starting, with the stage and progress ("loading the knowledge base", 0.25); then ok, and
        any work still going on in the background (the first intent model being trained)."""
        startup = assistant.startup.as_dict()
        if not assistant.ready:
            return JSONResponse({"status": "starting", **startup}, status_code=503)
        body = {"status": "ok", "intent_model": assistant.intent_version}
        if "background" in startup:
            body["background"] = startup["background"]
        return JSONResponse(body)

    @router.post(
        "/v1/chat",
        tags=["chat"],
        response_model=ChatReply,
        responses={
            200: {"content": {"text/event-stream": {}}},
            400: {"model": ErrorResponse},
            413: {"model": ErrorResponse},
            401: {"model": ErrorResponse},
            403: {"model": ErrorResponse},
            409: {"model": ErrorResponse},
            429: {"model": ErrorResponse},
        },
        dependencies=[Depends(chat_access)],
    )
    def chat(body: ChatRequest) -> Any:
        """Answer one message. With `"stream": true` the answer is `text/event-stream`: `token` events
        (`{"text"}`), then one `final` event whose data is the full reply object. With `client_message_id`,
        a message already answered under it gets that turn again (streamed alike), and nothing is done twice;
        409 `conflict` when the key answered another message or session."""
        if body.stream:
            # Validate before the stream starts, so bad input (or a reused key: 409) is still a 4xx and not an
            # event, and a server still starting says so (503 with its stage) instead of breaking the stream.
            assistant.replay(body.message, body.session_id, body.client_message_id)
            return StreamingResponse(
                _sse(assistant, body.message, body.session_id, body.client_message_id),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return assistant.chat(body.message, body.session_id, body.client_message_id)

    @router.get(
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
        brand = assistant.settings.brand
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
                    # The agent's picture from `[brand] agent_avatars` (None: the widget draws their initial).
                    "avatar": brand.agent_avatar(m["agent"]),
                    "text": m["text"],
                    "created_at": m["created_at"],
                }
                for m in store.agent_messages(session_id)
            ],
        }

    return router


async def _sse(
    assistant: Assistant, message: str, session_id: str | None, client_message_id: str | None
) -> AsyncIterator[str]:
    """`token` events (together exactly the final reply), then `final`; a client leaving cancels the turn."""
    async for kind, value in turn_events(assistant, message, session_id, client_message_id):
        if kind == "token":
            yield f"event: token\ndata: {json.dumps({'text': value}, ensure_ascii=False)}\n\n"
        elif kind == "final":
            yield f"event: final\ndata: {json.dumps(jsonable_encoder(value), ensure_ascii=False)}\n\n"
        else:
            body = {"error": {"code": "internal_error", "message": "The reply could not be produced."}}
            yield f"event: error\ndata: {json.dumps(body)}\n\n"
