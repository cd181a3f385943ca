"""The admin API's "fix this answer" on a review item: fine, use this answer, or write the right answer (a draft
template in each knowledge-base language, or a snippet). A thin adapter over assistant/operations/answer_fix.py:
here only the HTTP shapes and the status codes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from assistant.keys import KeyInfo
from assistant.operations import Invalid, NotFound, operations_for
from assistant.operations.answer_fix import MAX_ANSWER, MAX_TITLE
from assistant.pipeline import Assistant
from assistant.schema import ErrorResponse
from ui.http.security import ADMIN_PREFIX, require_admin


class _Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Give every other pending item with the same text the same answer.
    same_text: StrictBool = False


class Fine(_Outcome):
    """The bot's reply was right: the intent it used is confirmed."""

    outcome: Literal["fine"]


class UseAnswer(_Outcome):
    """An existing answer was the right one: an intent the assistant knows, or a template's id."""

    outcome: Literal["use"]
    intent: StrictStr = Field(min_length=1, max_length=120)


class WriteAnswer(_Outcome):
    """The right answer, written: a draft template of `intent` (or a knowledge-base snippet)."""

    outcome: Literal["write"]
    answer: StrictStr = Field(min_length=1, max_length=MAX_ANSWER)
    intent: StrictStr = Field(min_length=1, max_length=120)
    # Without it the intent must be one the assistant knows: a typo would become a class of its own.
    new_intent: StrictBool = False
    # The answer's language (left out: read from the text); one the knowledge base has.
    language: StrictStr | None = Field(default=None, max_length=12)
    # Left out: the customer's question (when in the answer's language), or the existing template's title.
    title: StrictStr | None = Field(default=None, max_length=MAX_TITLE)
    kind: Literal["template", "snippet"] = "template"


Fix = Annotated[Fine | UseAnswer | WriteAnswer, Field(discriminator="outcome")]


def answer_fix_router(assistant: Assistant) -> APIRouter:
    errors = {k: {"model": ErrorResponse} for k in (401, 403, 404, 422)}
    router = APIRouter(
        prefix=ADMIN_PREFIX, tags=["admin"], dependencies=[Depends(require_admin)], responses=errors
    )
    ops = operations_for(assistant)

    @router.post("/review/{item_id}/fix")
    def fix_answer(
        body: Annotated[Fix, Body()],
        item_id: int = PathParam(ge=1, le=2**63 - 1),
        key: KeyInfo = Depends(require_admin),
    ) -> dict[str, Any]:
        """Fix this answer, in one call: `{"outcome": "fine"}` (the bot was right), `{"outcome": "use",
        "intent": ...}` (an existing intent or template id was the answer), or `{"outcome": "write",
        "answer": ..., "intent": ..., "new_intent", "language", "title", "kind": "template" | "snippet"}`.
        A written answer becomes a draft (`drafts`: each language's template and its state: "written",
        "needs translation" (left out of publishing until translated), "needs update"); nothing is live until
        the knowledge base is published. The item joins the training data; `said` tells it in plain words."""
        reviewer = (key.name or "admin")[:80]
        try:
            if isinstance(body, Fine):
                return ops.fixes.fine(item_id, same_text=body.same_text, reviewer=reviewer)
            if isinstance(body, UseAnswer):
                return ops.fixes.use(item_id, body.intent, same_text=body.same_text, reviewer=reviewer)
            return ops.fixes.write(
                item_id,
                body.answer,
                body.intent,
                new_intent=body.new_intent,
                language=body.language,
                title=body.title,
                snippet=body.kind == "snippet",
                same_text=body.same_text,
                reviewer=reviewer,
            )
        except NotFound:
            raise HTTPException(404, {"code": "not_found", "message": "No such review item."}) from None
        except Invalid as exc:
            raise HTTPException(422, {"code": "invalid_fix", "message": str(exc)}) from None

    return router
