"""The admin API's write side: agent takeover and replies, the review queue, intent model and generator adapter
versions."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from assistant.conversations import CLOSED, HANDOFF
from assistant.pipeline import Assistant
from assistant.review_labels import UnknownIntent, check_label, known_intents
from assistant.schema import ErrorResponse
from training import ModelRegistry
from training.generator_lora import generator_registry
from training.registry import VERSION
from training.review import ReviewQueue
from ui.http.security import ADMIN_PREFIX, require_admin

log = logging.getLogger("lepton.admin")


class AgentReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(min_length=1, max_length=4000)
    agent: StrictStr = Field(default="agent", max_length=80)


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


def _queue(assistant: Assistant) -> ReviewQueue:
    assistant.live_store()
    assert assistant.review is not None
    return assistant.review


def actions_router(assistant: Assistant) -> APIRouter:
    errors = {401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 404: {"model": ErrorResponse}}
    router = APIRouter(
        prefix=ADMIN_PREFIX, tags=["admin"], dependencies=[Depends(require_admin)], responses=errors
    )
    settings = assistant.settings
    retrain_lock = threading.Lock()
    last_retrain: dict[str, Any] = {"status": "never"}

    @router.get("/handoffs")
    def handoffs() -> dict[str, Any]:
        """Sessions waiting for a person, most recent first."""
        return {"sessions": assistant.live_store().sessions_with_status(HANDOFF)}

    @router.post("/sessions/{session_id}/reply")
    def agent_reply(session_id: str, body: AgentReply) -> dict[str, Any]:
        """A person answers in the session (taking it over if the bot still had it)."""
        store = assistant.live_store()
        if not store.history(session_id, limit=1):
            raise _not_found("session")
        store.set_status(session_id, HANDOFF)
        return store.add_agent_message(session_id, body.text, body.agent)

    @router.post("/sessions/{session_id}/takeover")
    def takeover(session_id: str) -> dict[str, Any]:
        """Take a session away from the bot."""
        if not assistant.live_store().set_status(session_id, HANDOFF):
            raise _not_found("session")
        return {"session_id": session_id, "status": HANDOFF}

    @router.post("/sessions/{session_id}/close")
    def close(session_id: str) -> dict[str, Any]:
        """Hand the session back: the bot answers the customer's next message, with a clean failure count."""
        if not assistant.live_store().set_status(session_id, CLOSED):
            raise _not_found("session")
        assistant._emit("handoff_closed", {"session_id": session_id})
        return {"session_id": session_id, "status": CLOSED}

    @router.get("/review")
    def review_items(status: str = "pending", limit: int = 100) -> dict[str, Any]:
        """Review queue items (pending, confirmed, corrected, discarded)."""
        q = _queue(assistant)
        return {"items": q.items(status or None, max(1, min(limit, 1000))), "counts": q.counts()}

    @router.post("/review/{item_id}")
    def review_label(body: ReviewLabel, item_id: int = PathParam(ge=1, le=2**63 - 1)) -> dict[str, Any]:
        """Confirm or correct an item's intent (it joins the training data), or discard it."""
        queue = _queue(assistant)
        if queue.get(item_id) is None:
            raise _not_found("review item")
        intent = body.intent
        if intent is not None:
            try:
                intent = check_label(intent, known_intents(settings, assistant.kb), new=body.new_intent)
            except UnknownIntent as exc:
                raise HTTPException(422, {"code": "unknown_intent", "message": str(exc)}) from None
        try:
            return queue.resolve(item_id, intent, same_text=body.same_text)
        except KeyError:  # removed meanwhile
            raise _not_found("review item") from None

    @router.get("/models")
    def models() -> dict[str, Any]:
        """Intent model versions with their metrics; `current` names the one serving."""
        registry = ModelRegistry(settings.intents_dir)
        current = registry.current()
        return {
            "current": current[0] if current else None,
            "serving": assistant.intent_version,
            "versions": registry.list(),
            "last_retrain": last_retrain,
        }

    def promote_in(registry: ModelRegistry, version: str, what: str) -> None:
        # A name, not a path: checked before the registry sees it.
        if not VERSION.fullmatch(version):
            raise _not_found(what)
        try:
            registry.promote(version)
        except KeyError:
            raise _not_found(what) from None

    def roll_back(registry: ModelRegistry) -> str:
        version = registry.rollback()
        if version is None:
            raise HTTPException(409, {"code": "conflict", "message": "Nothing to roll back to."})
        return version

    @router.post("/models/{version}/promote")
    def promote(version: str) -> dict[str, Any]:
        promote_in(ModelRegistry(settings.intents_dir), version, "model version")
        return {"current": version, "serving": assistant.reload_intents()}

    @router.post("/models/rollback")
    def rollback() -> dict[str, Any]:
        version = roll_back(ModelRegistry(settings.intents_dir))
        return {"current": version, "serving": assistant.reload_intents()}

    def adapter_reloaded(version: str) -> dict[str, Any]:
        assistant.reload_generator()  # loads aside, then swaps: requests meanwhile use the previous model
        return {"current": version, "serving": assistant.generator_adapter}

    @router.get("/generator")
    def generator_versions() -> dict[str, Any]:
        """The generator's LoRA adapter versions (`lepton train generator`); `serving` names the merged one."""
        registry = generator_registry(settings.home)
        current = registry.current()
        return {
            "current": current[0] if current else None,
            "serving": assistant.generator_adapter,
            "adapter_setting": settings.generator.adapter,
            "versions": registry.list(),
        }

    @router.post("/generator/{version}/promote")
    def promote_adapter(version: str) -> dict[str, Any]:
        promote_in(generator_registry(settings.home), version, "adapter version")
        return adapter_reloaded(version)

    @router.post("/generator/rollback")
    def rollback_adapter() -> dict[str, Any]:
        return adapter_reloaded(roll_back(generator_registry(settings.home)))

    @router.post("/models/retrain", status_code=202)
    def retrain_now() -> dict[str, Any]:
        """Retrain from the original data plus reviewed turns in the background; promoted only if not worse."""
        from assistant.learning import retrain

        if not retrain_lock.acquire(blocking=False):
            raise HTTPException(409, {"code": "conflict", "message": "A retrain is already running."})

        def work() -> None:
            last_retrain.clear()
            last_retrain.update(status="running", started_at=time.time())
            try:
                outcome = retrain(settings, from_logs=True)
                if outcome.promoted:
                    assistant.reload_intents()
                last_retrain.update(
                    status="done", version=outcome.version, promoted=outcome.promoted, reason=outcome.reason
                )
            except Exception as exc:  # the current model keeps serving; the admin sees why
                log.exception("retrain failed")
                last_retrain.update(status="failed", error=str(exc))
            finally:
                last_retrain["finished_at"] = time.time()
                retrain_lock.release()

        threading.Thread(target=work, daemon=True, name="retrain").start()
        return {"status": "started"}

    return router
