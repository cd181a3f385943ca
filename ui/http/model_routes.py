"""The admin API's write side: agent takeover and replies, the review queue, intent model and generator adapter
versions, retrain jobs. A thin adapter over assistant/operations/ (shared with the console, the CLI and the
schedule): here only the HTTP shapes and the status codes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from assistant.keys import KeyInfo
from assistant.operations import Conflict, Invalid, NotFound, operations_for
from assistant.pipeline import Assistant
from assistant.schema import ErrorResponse
from ui.http.security import ADMIN_PREFIX, require_admin


class AgentReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(min_length=1, max_length=4000)
    agent: StrictStr = Field(default="agent", max_length=80)


class Assignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Who gets the session; left out: the caller (the admin key's name).
    agent: StrictStr | None = Field(default=None, min_length=1, max_length=80)


def _me(key: KeyInfo) -> str:
    """The agent an admin key speaks for: its name, else "admin"."""
    return (key.name or "admin")[:80]


class ReviewLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # An intent confirms or corrects the item; null discards it.
    intent: StrictStr | None = Field(default=None, max_length=120)
    # Without it the intent must be one the assistant knows: a typo would become a class of its own.
    new_intent: StrictBool = False
    # Give every other pending item with the same text the same answer.
    same_text: StrictBool = False


def _not_found(what: str) -> HTTPException:
    return HTTPException(404, {"code": "not_found", "message": f"No such {what}."})


def _conflict(exc: Conflict) -> HTTPException:
    return HTTPException(409, {"code": "conflict", "message": str(exc)})


def actions_router(assistant: Assistant) -> APIRouter:
    errors = {k: {"model": ErrorResponse} for k in (401, 403, 404, 409)}
    router = APIRouter(
        prefix=ADMIN_PREFIX, tags=["admin"], dependencies=[Depends(require_admin)], responses=errors
    )
    ops = operations_for(assistant)

    @router.get("/handoffs")
    def handoffs() -> dict[str, Any]:
        """Sessions waiting for a person, most recent first."""
        return {"sessions": ops.agents.handoffs()}

    @router.post("/sessions/{session_id}/reply")
    def agent_reply(session_id: str, body: AgentReply) -> dict[str, Any]:
        """A person answers in the session (taking it over if the bot still had it)."""
        try:
            return ops.agents.reply(session_id, body.text, body.agent)
        except NotFound:
            raise _not_found("session") from None

    @router.post("/sessions/{session_id}/takeover")
    def takeover(session_id: str) -> dict[str, Any]:
        """Take a session away from the bot."""
        try:
            return ops.agents.takeover(session_id)
        except NotFound:
            raise _not_found("session") from None

    @router.post("/sessions/{session_id}/close")
    def close(session_id: str, key: KeyInfo = Depends(require_admin)) -> dict[str, Any]:
        """Hand the session back: the customer gets a closing message in their language, then the bot answers
        their next message, with a clean failure count."""
        try:
            return ops.agents.close(session_id, _me(key))
        except NotFound:
            raise _not_found("session") from None

    @router.post("/sessions/{session_id}/assign")
    def assign(session_id: str, body: Assignment, key: KeyInfo = Depends(require_admin)) -> dict[str, Any]:
        """Give a waiting session to an agent (`agent`; left out: the caller). 409 unless it waits for a
        person."""
        try:
            return ops.agents.assign(session_id, body.agent or _me(key))
        except NotFound:
            raise _not_found("session") from None
        except Conflict as exc:
            raise _conflict(exc) from None

    @router.get("/sessions/{session_id}/context")
    def context(session_id: str) -> dict[str, Any]:
        """The customer's context for the agent: language, the conversation so far, order numbers (slot
        values) mentioned, earlier sessions of the same user where known."""
        try:
            return ops.agents.context(session_id)
        except NotFound:
            raise _not_found("session") from None

    @router.get("/sessions/{session_id}/canned")
    def canned(session_id: str) -> dict[str, Any]:
        """Canned replies: the live templates in the customer's language, known slot values filled in."""
        return {"replies": ops.agents.canned(session_id)}

    @router.get("/review")
    def review_items(status: str = "pending", limit: int = 100, grouped: bool = False) -> dict[str, Any]:
        """Review queue items (pending, confirmed, corrected, discarded), newest first. Each says why it was
        queued in plain words (`why`; `reasons` has the codes) and what the bot answered (`reply`, `route`,
        `sources`). `grouped=true`: a question asked by many is one item, `copies` counting them (resolve it
        with `same_text` to answer them all)."""
        return ops.review.items(status or None, limit, grouped=grouped)

    @router.post("/review/{item_id}")
    def review_label(body: ReviewLabel, item_id: int = PathParam(ge=1, le=2**63 - 1)) -> dict[str, Any]:
        """Confirm or correct an item's intent (it joins the training data), or discard it."""
        try:
            return ops.review.resolve(item_id, body.intent, new=body.new_intent, same_text=body.same_text)
        except NotFound:
            raise _not_found("review item") from None
        except Invalid as exc:
            raise HTTPException(422, {"code": "unknown_intent", "message": str(exc)}) from None
        except Conflict as exc:  # reviewed by someone else first
            raise _conflict(exc) from None

    @router.get("/models")
    def models() -> dict[str, Any]:
        """Intent model versions with their metrics; `current` names the one serving."""
        return {**ops.models.intent_models(), "last_retrain": ops.retraining.latest() or {"status": "never"}}

    @router.post("/models/{version}/promote")
    def promote(version: str) -> dict[str, Any]:
        try:
            return {"current": version, "serving": ops.models.promote_intent(version)}
        except NotFound:
            raise _not_found("model version") from None

    @router.post("/models/rollback")
    def rollback() -> dict[str, Any]:
        try:
            version, serving = ops.models.rollback_intent()
        except Conflict as exc:
            raise _conflict(exc) from None
        return {"current": version, "serving": serving}

    @router.get("/generator")
    def generator_versions() -> dict[str, Any]:
        """The generator's LoRA adapter versions (`lepton train generator`); `serving` names the merged one."""
        return ops.models.adapters()

    @router.post("/generator/{version}/promote")
    def promote_adapter(version: str) -> dict[str, Any]:
        try:
            return {"current": version, "serving": ops.models.promote_adapter(version)}
        except NotFound:
            raise _not_found("adapter version") from None

    @router.post("/generator/rollback")
    def rollback_adapter() -> dict[str, Any]:
        try:
            version = ops.models.rollback_adapter()
        except Conflict as exc:
            raise _conflict(exc) from None
        return {"current": version, "serving": assistant.generator_adapter}

    @router.post("/models/retrain", status_code=202)
    def retrain_now() -> dict[str, Any]:
        """Retrain from the original data plus reviewed turns in the background; promoted only if not worse.
        409 while a retrain runs (started here, in the console, by the schedule or by `lepton train`)."""
        try:
            job = ops.retraining.start(trigger="api")
        except Conflict as exc:
            raise _conflict(exc) from None
        return {"status": "started", "job_id": job["id"], "job": job}

    @router.get("/models/retrain")
    def retrain_status() -> dict[str, Any]:
        """The latest retrain job of this server: status (queued, running, done, failed), stage, progress (0 to
        1) and `eta_s` (seconds left; null until it can tell), then the version, whether it was promoted and
        why (or the error), and `verdict`: the outcome in one plain line ("v0004 answers 1.2 % more test
        questions correctly than v0003 (…): promoted")."""
        return ops.retraining.latest() or {"status": "never"}

    @router.get("/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        """One retrain job by the id `POST /models/retrain` returned."""
        try:
            return ops.retraining.job(job_id)
        except NotFound:
            raise _not_found("job") from None

    return router
