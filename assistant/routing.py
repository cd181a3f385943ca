"""The routing policy: which path answers a message, decided from the intent prediction alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.config import RoutingSettings

SMALLTALK = frozenset({"greeting", "thanks", "goodbye"})
HANDOFF_INTENT = "contact_human"
OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Decision:
    """A route (`None` means: retrieve and decide from what is found) and why."""

    route: str | None
    reason: str
    intent: str | None = None
    confidence: float = 0.0
    alternatives: list[str] = field(default_factory=list)
    # Retrieval must clear the stricter out-of-scope bar (the classifier thinks the question is off-topic).
    strict: bool = False


def decide(
    intent: str | None,
    confidence: float,
    ranking: list[tuple[str, float]],
    has_template: Callable[[str], bool],
    cfg: RoutingSettings,
) -> Decision:
    """Route from the classifier's top intent, its confidence and the ranking of in-scope intents."""
    if intent is None:
        return Decision(None, "no intent model: retrieval decides")
    if intent == HANDOFF_INTENT and confidence >= cfg.handoff_confidence:
        return Decision("handoff", "customer asked for a person", intent, confidence)
    if intent == OUT_OF_SCOPE:
        # Still retrieve: a classifier can miss a phrasing (or a language) it has seen little of, so a
        # strong knowledge-base match answers; anything weaker falls back.
        strict = confidence >= cfg.oos_confidence
        reason = (
            "out of scope per classifier: only a strong match answers" if strict else "maybe out of scope"
        )
        return Decision(None, reason, intent, confidence, strict=strict)
    if intent in SMALLTALK and confidence >= cfg.smalltalk_confidence and has_template(intent):
        return Decision("smalltalk", f"small talk ({intent})", intent, confidence)
    if confidence >= cfg.template_confidence and has_template(intent):
        return Decision(
            "template", f"confident intent {intent} ({confidence:.2f}) has a template", intent, confidence
        )
    close = [
        name
        for name, score in ranking[:2]
        if name not in SMALLTALK and name not in (OUT_OF_SCOPE, HANDOFF_INTENT) and has_template(name)
    ]
    if len(ranking) >= 2 and len(close) == 2:
        (first, p1), (_, p2) = ranking[0], ranking[1]
        if p1 - p2 < cfg.clarify_margin and p1 + p2 >= cfg.clarify_min_total:
            return Decision(
                "clarify", f"two intents close together ({p1:.2f} vs {p2:.2f})", first, p1, alternatives=close
            )
    return Decision(
        None, f"intent {intent} not confident enough ({confidence:.2f}): retrieval", intent, confidence
    )
