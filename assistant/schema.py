"""The `/v1/chat` contract: request, reply and error bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

Route = Literal["template", "rag", "clarify", "handoff", "fallback", "smalltalk"]


class ChatRequest(BaseModel):
    """A customer's message; unknown fields are ignored so newer clients keep working."""

    model_config = ConfigDict(extra="ignore")

    message: StrictStr
    session_id: StrictStr | None = Field(default=None, max_length=128)
    stream: StrictBool = False


class IntentOut(BaseModel):
    name: str | None
    confidence: float


class SourceOut(BaseModel):
    id: str
    title: str
    uri: str
    snippet: str


class ChatReply(BaseModel):
    session_id: str
    message_id: str
    reply: str
    language: str
    intent: IntentOut
    route: Route
    sources: list[SourceOut]
    latency_ms: float


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
