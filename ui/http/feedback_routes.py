"""`POST /v1/feedback`: a customer rates one reply up or down."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from assistant.feedback import rate
from assistant.pipeline import Assistant
from assistant.schema import ErrorResponse
from ui.http.security import chat_access


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message_id: StrictStr = Field(min_length=1, max_length=128)
    rating: Literal["up", "down"]
    comment: StrictStr | None = Field(default=None, max_length=2000)


class FeedbackOut(BaseModel):
    message_id: str
    session_id: str
    rating: Literal["up", "down"]
    comment: str | None
    updated_at: float


def feedback_router(assistant: Assistant) -> APIRouter:
    router = APIRouter(tags=["chat"])

    @router.post(
        "/v1/feedback",
        response_model=FeedbackOut,
        responses={404: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
        dependencies=[Depends(chat_access)],
    )
    def feedback(body: FeedbackRequest) -> FeedbackOut:
        """Rate one reply (`message_id` from the chat reply) up or down, with an optional comment."""
        row = rate(assistant, body.message_id, body.rating, body.comment)
        if row is None:
            raise HTTPException(404, {"code": "not_found", "message": "No reply with this message_id."})
        return FeedbackOut(**{k: row[k] for k in FeedbackOut.model_fields})

    return router
