"""An OpenAI-compatible face: `POST /v1/chat/completions` and `GET /v1/models` (one model, "lepton").

The last user message is the customer's message; earlier messages are ignored because the session already
holds the conversation: the one named by the `X-Lepton-Session` header, else the latest live session of the
end user named by `user` (as OpenAI documents it: one id per end user), else a new one. `usage` counts words
and punctuation (each CJK character one), since an extractive reply has no model tokens; another `model`
than "lepton" is a 404, as OpenAI answers. Replies carry an extra `lepton` object with the session, message
id, route, sources, intent and language.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from assistant.keys import KeyInfo
from assistant.pipeline import Assistant
from assistant.schema import ChatReply, ErrorResponse
from assistant.streaming import turn_events
from ui.http.security import chat_access

MODEL = "lepton"
CREATED = 1_735_689_600  # 2025-01-01, a fixed "created" for the one model


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: StrictStr
    text: StrictStr | None = None


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class CompletionRequest(BaseModel):
    """The subset of the OpenAI request that matters here; other fields (temperature, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr = MODEL
    messages: list[MessageIn] = Field(min_length=1, max_length=500)
    stream: StrictBool = False
    user: StrictStr | None = Field(default=None, max_length=128)


def lepton_fields(reply: ChatReply) -> dict[str, Any]:
    return jsonable_encoder(
        {
            "session_id": reply.session_id,
            "message_id": reply.message_id,
            "route": reply.route,
            "sources": reply.sources,
            "intent": reply.intent,
            "language": reply.language,
        }
    )


_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Words, numbers and punctuation marks; each CJK character counts as one."""
    return len(_TOKEN.findall(text))


def usage(prompt: str, reply: str) -> dict[str, int]:
    p, c = count_tokens(prompt), count_tokens(reply)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def completion(reply: ChatReply, prompt: str = "") -> dict[str, Any]:
    """A `chat.completion` object for one reply to `prompt`."""
    return {
        "id": f"chatcmpl-{reply.message_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.reply},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": usage(prompt, reply.reply),
        "lepton": lepton_fields(reply),
    }


def _chunk(cid: str, created: int, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    body = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def stream_chunks(assistant: Assistant, message: str, session_id: str | None) -> AsyncIterator[str]:
    """SSE: the role, content deltas, a final chunk with finish_reason "stop" (and `lepton`), `[DONE]`.

    The deltas together are exactly the final chunk's `lepton.reply`: only a reply the grounding guard
    accepted (or the extractive answer) is streamed. A client that disconnects cancels the turn.
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    yield _chunk(cid, created, {"role": "assistant", "content": ""})
    async for kind, value in turn_events(assistant, message, session_id):
        if kind == "token":
            if value:
                yield _chunk(cid, created, {"content": value})
        elif kind == "final":
            fields = lepton_fields(value) | {"reply": value.reply}
            yield _chunk(cid, created, {}, "stop", usage=usage(message, value.reply), lepton=fields)
        else:
            body = {"error": {"code": "internal_error", "message": "The reply could not be produced."}}
            yield f"data: {json.dumps(body)}\n\n"
            break
    yield "data: [DONE]\n\n"


def customer_message(body: CompletionRequest) -> str:
    for m in reversed(body.messages):
        if m.role == "user":
            text = m.text()
            if not text.strip():
                raise HTTPException(
                    422, {"code": "empty_message", "message": "The last user message has no text."}
                )
            return text
    raise HTTPException(422, {"code": "invalid_request", "message": "messages: no message with role 'user'."})


def openai_router(assistant: Assistant) -> APIRouter:
    router = APIRouter(tags=["openai"], dependencies=[Depends(chat_access)])
    errors = {
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
    }

    @router.post("/v1/chat/completions", responses={200: {"content": {"text/event-stream": {}}}, **errors})
    def chat_completions(
        body: CompletionRequest,
        request: Request,
        x_lepton_session: str | None = Header(default=None, max_length=128),
        key: KeyInfo | None = Depends(chat_access),  # the router's own check, not run twice
    ) -> Any:
        """OpenAI chat completions: the last user message is answered in the session from the
        `X-Lepton-Session` header, else the latest session of `user` (the end user's id); `"stream": true`
        sends `chat.completion.chunk` events."""
        if body.model != MODEL:
            raise _no_model(body.model)
        message = customer_message(body)
        assistant.validate_message(message)
        session_id = x_lepton_session
        if session_id is None and body.user:
            # One integrator's "cust-42" is not another's: the id is scoped by the key that sent it.
            ref = request.app.state.security.keys.fingerprint(f"{key.id if key else ''}\x00{body.user}")
            session_id = assistant.live_store().session_for_user(ref).id
        if body.stream:
            assistant.live_store()
            return StreamingResponse(
                stream_chunks(assistant, message, session_id),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        reply = assistant.chat(message, session_id)
        return JSONResponse(completion(reply, message), headers={"X-Lepton-Session": reply.session_id})

    @router.get("/v1/models", responses=errors)
    def models() -> dict[str, Any]:
        """The one model this server answers as."""
        return {"object": "list", "data": [_model()]}

    @router.get("/v1/models/{model}", responses={404: {"model": ErrorResponse}, **errors})
    def model(model: str) -> dict[str, Any]:
        if model != MODEL:
            raise _no_model(model)
        return _model()

    return router


def _no_model(model: str) -> HTTPException:
    return HTTPException(
        404, {"code": "model_not_found", "message": f"No model {model[:64]!r}; use {MODEL!r}."}
    )


def _model() -> dict[str, Any]:
    return {"id": MODEL, "object": "model", "created": CREATED, "owned_by": "lepton"}
