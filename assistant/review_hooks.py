"""Turns put in the review queue: the ones a person should look at, and replies rated thumbs-down."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.routing import HANDOFF_INTENT
from assistant.turn import Turn

if TYPE_CHECKING:  # the pipeline imports this module
    from assistant.pipeline import Assistant


def queue_for_review(a: Assistant, turn: Turn, message_id: str) -> None:
    """Turns a person should look at: unanswered, out of scope, unsure, handed off because the bot failed or
    the customer got angry; a message refused as an injection attempt, under its own reason (so a false
    refusal is seen). Not a customer who asked for a person (or said yes to the offer of one): they got what
    they asked for."""
    asked_for_person = turn.intent == HANDOFF_INTENT and turn.route == "handoff"
    refused = bool(turn.trace.get("injection")) and not turn.trace["injection"].get("guarded")
    reasons = []
    if refused:
        reasons.append("refused_as_injection")
    elif turn.route == "fallback":
        reasons.append("unanswered")
    if turn.intent == "out_of_scope":
        reasons.append("out_of_scope")
    if turn.trace.get("handoff_started") and not asked_for_person:
        reasons.append("handoff")
    unsure = turn.intent is not None and turn.confidence < a.settings.routing.template_confidence
    if unsure and turn.route not in ("smalltalk", "handoff"):
        reasons.append("low_confidence")
    for reason in reasons:
        review_add(
            a, message_id, turn.message, reason, turn.session.id, turn.language, turn.intent, turn.confidence
        )


def review_add(
    a: Assistant,
    message_id: str,
    text: str,
    reason: str,
    session_id: str,
    language: str,
    intent: str | None,
    confidence: float,
) -> None:
    """Queue one message; listeners hear of it when it is new in the queue."""
    assert a.review is not None
    if a.review.add(
        message_id,
        text,
        reason,
        session_id=session_id,
        language=language,
        predicted=intent,
        confidence=confidence,
    ):
        a._emit("review_item", {"message_id": message_id, "reason": reason})


def queue_thumbs_down(a: Assistant, kind: str, payload: dict[str, Any]) -> None:
    """A listener: a reply rated down goes to review."""
    if kind != "feedback" or payload.get("rating") != "down" or a.store is None:
        return
    turn = a.store.turn(str(payload.get("message_id", "")))
    if turn is not None:
        review_add(
            a,
            turn["id"],
            turn["message"],
            "thumbs_down",
            turn["session_id"],
            turn["language"] or "",
            turn["intent"],
            turn["confidence"] or 0.0,
        )
