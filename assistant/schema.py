"""The `/v1/chat` contract: request, reply and error bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

# A client's idempotency key: random (a UUID's hex, say), one per message, the same on every retry of it.
CLIENT_MESSAGE_ID = r"^[A-Za-z0-9_-]{16,128}$"

Route = Literal["template", "rag", "clarify", "handoff", "fallback", "smalltalk"]


class ChatRequest(BaseModel):
    """A customer's message; unknown fields are ignored so newer clients keep working."""

    model_config = ConfigDict(extra="ignore")

    message: StrictStr
    session_id: StrictStr | None = Field(default=None, max_length=128)
    stream: StrictBool = False
    # Sent again with a retry (another replica, after a timeout or a 502/503/504): the message already answered
    # under it gets that turn back, answered and logged once. The same key for another message or session: 409.
    client_message_id: StrictStr | None = Field(default=None, pattern=CLIENT_MESSAGE_ID)


class IntentOut(BaseModel):
    name: str | None
    confidence: float


class SourceOut(BaseModel):
    """A cited source. `uri` names it without revealing the server: its public URL, `kb:<path>` (its path in
    the knowledge base, no suffix) or `template:<id>`; `url` is the page customers can open, or None."""

    id: str
    title: str
    uri: str
    snippet: str
    url: str | None = None


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
