from __future__ import annotations

from assistant.config import RoutingSettings
from assistant.routing import decide

CFG = RoutingSettings()
HAS = {"order_status", "cancel_order", "greeting", "refund_status"}


def has_template(intent: str) -> bool:
    return intent in HAS


def test_confident_intent_with_template_answers_from_template() -> None:
    d = decide("order_status", 0.95, [("order_status", 0.95), ("cancel_order", 0.02)], has_template, CFG)
    assert d.route == "template" and d.intent == "order_status"


def test_confident_intent_without_template_retrieves() -> None:
    d = decide("warranty_coverage", 0.95, [("warranty_coverage", 0.95)], has_template, CFG)
    assert d.route is None


def test_asking_for_a_person_hands_off() -> None:
    assert decide("contact_human", 0.9, [("contact_human", 0.9)], has_template, CFG).route == "handoff"


def test_small_talk() -> None:
    assert decide("greeting", 0.8, [("greeting", 0.8)], has_template, CFG).route == "smalltalk"


def test_out_of_scope_retrieves_with_a_stricter_bar_when_confident() -> None:
    confident = decide("out_of_scope", 0.9, [("order_status", 0.05)], has_template, CFG)
    assert confident.route is None and confident.strict
    hesitant = decide("out_of_scope", 0.3, [("order_status", 0.3)], has_template, CFG)
    assert hesitant.route is None and not hesitant.strict


def test_two_close_intents_ask_to_clarify() -> None:
    d = decide("cancel_order", 0.45, [("cancel_order", 0.45), ("refund_status", 0.4)], has_template, CFG)
    assert d.route == "clarify" and d.alternatives == ["cancel_order", "refund_status"]
    d = decide("cancel_order", 0.34, [("cancel_order", 0.34), ("refund_status", 0.3)], has_template, CFG)
    assert d.route is None
    d = decide("cancel_order", 0.5, [("cancel_order", 0.5), ("refund_status", 0.45)], has_template, CFG)
    assert d.route == "clarify" and d.alternatives == ["cancel_order", "refund_status"]


def test_low_confidence_spread_out_retrieves() -> None:
    d = decide("cancel_order", 0.3, [("cancel_order", 0.3), ("refund_status", 0.1)], has_template, CFG)
    assert d.route is None


def test_without_an_intent_model_retrieval_decides() -> None:
    assert decide(None, 0.0, [], has_template, CFG).route is None
