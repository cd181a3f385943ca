"""What one message gets, first match wins: the session is with a person; an attack; an answer to our offer
of a person; a person asked for; anger; the slot a template waited for; else the classifier's route, with
contact details stated from the knowledge base and a person offered."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant import messages
from assistant.answering import cited, compose, passages_of, retrieve_and_compose
from assistant.conversations import HANDOFF
from assistant.dialogue import (
    OFFER_HANDOFF,
    answer_to_offer,
    asks_for_contact_details,
    contact_hits,
    contact_query,
)
from assistant.guardrails import asks_for_human, negativity
from assistant.injection import default_detector
from assistant.routing import HANDOFF_INTENT, Decision
from assistant.scope import template_fits
from assistant.slot_filling import (
    answer_from_template,
    answer_pending_slot,
    offer_slot,
    template_with_its_slots,
)
from assistant.turn import Turn
from knowledge import Hit

if TYPE_CHECKING:  # the pipeline imports this module
    from assistant.pipeline import Assistant


def answer_turn(
    a: Assistant, turn: Turn, offer: str | None, language: str, cancel: threading.Event | None, since: float
) -> None:
    """Decide and write the turn's route and reply; `offer` is the one the previous reply made."""
    text, t = turn.message, since
    if turn.session.status == HANDOFF:
        # Told once per handoff that a person will answer; later messages reach the agent with no bot reply.
        told, turn.session.told_waiting = turn.session.told_waiting, True
        turn.route = "handoff"
        turn.reply = "" if told else messages.text("handoff_waiting", a._reply_language(turn))
        reason = "session is with a human agent" + ("; the customer was told: no reply" if told else "")
        turn.trace["decision"] = {"route": "handoff", "reason": reason}
    elif (attack := default_detector().run(text)).attack:
        turn.route, turn.reply = "fallback", messages.text("refuse", a._reply_language(turn))
        turn.trace["decision"] = {
            "route": "fallback",
            "reason": f"prompt injection or markup in the message ({attack.reason})",
        }
        turn.trace["injection"] = {"reason": attack.reason, "score": attack.score}
    elif attack.guarded:
        # unsure but risky: no KB content, only the fallback (and its offer of a person stands)
        turn.route, turn.reply = "fallback", messages.text("fallback", a._reply_language(turn))
        turn.trace["decision"] = {
            "route": "fallback",
            "reason": "possible prompt injection, not answered",
        }
        turn.trace["injection"] = {"reason": attack.reason, "score": attack.score, "guarded": True}
        turn.trace["offer"] = OFFER_HANDOFF
    elif offer == OFFER_HANDOFF and (accepted := answer_to_offer(text)) is not None:
        if accepted:
            turn.intent, turn.confidence = HANDOFF_INTENT, 1.0
            start_handoff(turn, language)
        else:
            turn.route, turn.reply = "smalltalk", messages.text("offer_declined", language)
        said = "accepted" if accepted else "declined"
        turn.trace["decision"] = {"route": turn.route, "reason": f"customer {said} the offer of a person"}
    elif asks_for_human(text):
        turn.intent, turn.confidence = HANDOFF_INTENT, 1.0
        start_handoff(turn, a._reply_language(turn))
        turn.trace["decision"] = {"route": "handoff", "reason": "customer asked for a person"}
    elif negativity(text) >= a.settings.routing.anger_handoff:
        start_handoff(turn, a._reply_language(turn))
        turn.trace["decision"] = {
            "route": "handoff",
            "reason": f"strong negative sentiment ({negativity(text):.2f})",
        }
    elif not answer_pending_slot(a, turn):
        answer_question(a, turn, language, cancel, t)


def answer_question(
    a: Assistant, turn: Turn, language: str, cancel: threading.Event | None, since: float
) -> None:
    """The classifier's route; a question FOR contact details is answered from the passage that states
    them, with a person offered. Only a confident other intent (its template) keeps it; it never hands off
    by itself."""
    assert a.kb is not None
    text = turn.message
    decision = a._classify(turn)
    t = turn.stage("intent", since)
    found: list[Hit] = []
    contact = asks_for_contact_details(text) and decision.route in (None, "handoff")
    if contact:
        query, k = contact_query(text, language), 2 * a.settings.retrieval.top_k
        found = contact_hits(a.kb.search(query, k=k, language=language), text)
        decision = replace(decision, route=None, reason=f"contact details asked; {decision.reason}")
    if found:
        reply, verdict = compose(a, text, passages_of(found), language, cancel)
        turn.stage("contact", t)
        found.sort(key=lambda h: h.id != verdict.get("passage"))  # cite the passage it quotes first
        turn.route, turn.reply, turn.sources = "rag", reply, cited(found)
        turn.trace["guard"] = verdict
        turn.trace["decision"] = {"route": "rag", "reason": "contact details asked: stated"}
    else:
        route(a, turn, decision, cancel)
    if contact and turn.route in ("template", "rag"):
        turn.reply = f"{turn.reply}\n\n{messages.text('offer_person', language)}"
        turn.trace["offer"] = OFFER_HANDOFF


def route(a: Assistant, turn: Turn, decision: Decision, cancel: threading.Event | None) -> None:
    """Carry out the router's decision (assistant/routing.py)."""
    turn.trace["decision"] = {"route": decision.route, "reason": decision.reason}
    language = a._reply_language(turn)
    if decision.route == "handoff":
        start_handoff(turn, language)
    elif decision.route == "fallback":
        turn.route, turn.reply = "fallback", messages.text("fallback", language)
    elif decision.route in ("template", "smalltalk"):
        template = a._template(decision.intent or "", language)
        assert template is not None
        fits, covered = template_fits(turn.query, template, a.settings)
        if decision.route == "template" and not fits:
            # The nearest intent the classifier knows, not what was asked: retrieval decides, scoped.
            turn.trace["template_check"] = {"template": template.id, "coverage": round(covered, 3)}
            turn.trace["decision"]["reason"] += f"; the question is not {template.id}'s: retrieval"
            retrieve_and_compose(a, turn, language, cancel, strict=True, scoped=True)
            return
        turn.route = decision.route
        answer_from_template(a, turn, template, language, cancel)
    elif decision.route == "clarify":
        first, second = (a._template(name, language) for name in decision.alternatives[:2])
        turn.route = "clarify"
        turn.reply = messages.text(
            "clarify", language, a=first.title if first else "", b=second.title if second else ""
        )
    elif (template := template_with_its_slots(a, turn, decision, language)) is not None:
        turn.route = "template"
        turn.trace["decision"] = {
            "route": "template",
            "reason": f"{decision.reason}; the message supplies the slots of {template.id}",
        }
        answer_from_template(a, turn, template, language, cancel)
    else:
        # A follow-up leans on an answered question: the out-of-scope check does not apply to it.
        own = turn.query == turn.message
        retrieve_and_compose(a, turn, language, cancel, strict=decision.strict and own, scoped=own)
        if turn.route == "rag":
            offer_slot(a, turn, decision, language)


def start_handoff(turn: Turn, language: str) -> None:
    turn.route, turn.reply = "handoff", messages.text("handoff", language)
    turn.session.start_waiting()
    turn.trace["handoff_started"] = True


def update_failures(a: Assistant, turn: Turn) -> None:
    """Count unanswered turns in a row; past `routing.max_failures` a person takes over."""
    session = turn.session
    if turn.route == "fallback" and not turn.trace.get("injection"):
        session.failures += 1
        if session.failures >= a.settings.routing.max_failures and session.status != HANDOFF:
            language = a._reply_language(turn)
            turn.reply = turn.reply + "\n\n" + messages.text("handoff", language)
            turn.route = "handoff"
            session.start_waiting()
            turn.trace["handoff_started"] = True
            turn.trace["decision"] = {
                "route": "handoff",
                "reason": f"{session.failures} unanswered turns in a row",
            }
    elif turn.route in ("template", "rag"):
        session.failures = 0
