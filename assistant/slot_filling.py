"""Slot filling: a template's `{slots}` from the message or the session, or the question for a missing one.
Slots (names, patterns, questions) are declared in the knowledge base (knowledge/slots.py)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from assistant import answering
from assistant.routing import Decision
from assistant.turn import Turn
from knowledge import Hit, Template
from knowledge.slots import Slot, SlotError, template_slots

if TYPE_CHECKING:  # the pipeline imports this module
    from assistant.pipeline import Assistant


def answer_from_template(
    a: Assistant, turn: Turn, template: Template, language: str, cancel: threading.Event | None = None
) -> None:
    """Fill `{slots}` from the message or the session; when one is missing, answer the general
    question from the knowledge base and ask for the value (the next turn can then use the template)."""
    try:
        slots: list[str] | None = template_slots(template.answer)
    except SlotError:  # stored before answers were checked: shown as written, never a 500
        slots = None
    declared = declared_slots(a)
    values: dict[str, str] = {}
    for slot in slots or []:
        spec = declared.get(slot)
        value = (spec.find(turn.message) if spec else None) or turn.session.slots.get(slot)
        if value is None:
            turn.trace["slot"] = {"missing": slot, "template": template.id, "declared": spec is not None}
            # Not back to this template when nothing is retrieved: the slot would be missing again, forever.
            answering.retrieve_and_compose(a, turn, language, cancel, template_fallback=False)
            ask = spec.ask_text(language) if spec else None
            if ask is None:  # no declaration (a knowledge base loaded before slots were declared)
                return
            if turn.route == "rag":
                turn.reply = f"{turn.reply}\n\n{ask}"
            else:
                turn.route, turn.reply, turn.sources = "clarify", ask, []
            turn.session.pending = {"template_id": template.id, "slot": slot, "intent": template.intent}
            return
        values[slot] = value
    turn.session.slots.update(values)
    turn.reply = template.answer.format(**values) if slots is not None else template.answer
    turn.sources = [template_hit(template)]


def answer_pending_slot(a: Assistant, turn: Turn) -> bool:
    """Answer the template that waited for a slot when this message supplies it."""
    pending = turn.session.pending
    if not pending:
        return False
    turn.session.pending = None
    if find_slot(a, pending["slot"], turn.message) is None:
        return False
    assert a.kb is not None
    template = a.kb.get_template(pending["template_id"])
    if template is None:
        return False
    turn.route, turn.intent, turn.confidence = "template", pending["intent"], 1.0
    turn.trace["decision"] = {"route": "template", "reason": f"slot {pending['slot']} supplied"}
    answer_from_template(a, turn, template, a._reply_language(turn))
    return True


def declared_slots(a: Assistant) -> dict[str, Slot]:
    """The slots the live knowledge base declares."""
    assert a.kb is not None
    return a.kb.slots()


def find_slot(a: Assistant, slot: str, message: str) -> str | None:
    spec = declared_slots(a).get(slot)
    return spec.find(message) if spec is not None else None


def offer_slot(a: Assistant, turn: Turn, decision: Decision, language: str) -> None:
    """After a general answer, ask for the value the likely intent's template needs ("where's my
    order?" at 0.4 for order_status: the help-centre answer, then the question for the order number)."""
    found = slot_template(a, decision, language)
    if found is None:
        return
    template, slots = found
    declared = declared_slots(a)
    missing = [s for s in slots if not turn.session.slots.get(s) and not find_slot(a, s, turn.message)]
    ask = declared[missing[0]].ask_text(language) if missing and missing[0] in declared else None
    if ask:
        turn.reply = f"{turn.reply}\n\n{ask}"
        turn.session.pending = {"template_id": template.id, "slot": missing[0], "intent": template.intent}
        turn.trace["slot"] = {"missing": missing[0], "template": template.id, "offered": True}


def template_with_its_slots(a: Assistant, turn: Turn, decision: Decision, language: str) -> Template | None:
    """The intent's template when the message carries every slot value it needs: an order number
    the customer typed corroborates an intent the classifier is not quite sure of."""
    found = slot_template(a, decision, language)
    if found is None or any(find_slot(a, slot, turn.message) is None for slot in found[1]):
        return None
    return found[0]


def slot_template(a: Assistant, decision: Decision, language: str) -> tuple[Template, list[str]] | None:
    """The decided intent's template and its slots, when it has some and the intent is likely enough."""
    likely = decision.confidence >= a.settings.routing.template_fallback_confidence
    template = a._template(decision.intent, language) if decision.intent and likely else None
    try:
        slots = template_slots(template.answer) if template is not None else []
    except SlotError:
        return None
    return (template, slots) if template is not None and slots else None


def template_hit(template: Template) -> Hit:
    """A template as the source it is cited as."""
    return Hit(
        id=template.id,
        kind="template",
        title=template.title,
        uri=f"template:{template.id}",
        snippet=template.answer[:200],
        text=template.answer,
        score=1.0,
        language=template.language,
        intent=template.intent,
    )
