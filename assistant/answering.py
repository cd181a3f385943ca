"""Answers from the knowledge base: retrieve, compose (a guarded draft or the extractive answer), cite."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from assistant import messages, slot_filling
from assistant.generation import GenerationError, Passage, build_messages
from assistant.generation.extractive import compose_answer
from assistant.generation.vector_cache import passage_vectors
from assistant.scope import answering, template_fits
from assistant.streaming import drain
from assistant.turn import Turn
from knowledge import Hit

if TYPE_CHECKING:  # the pipeline imports this module
    from assistant.pipeline import Assistant


def retrieve_and_compose(
    a: Assistant,
    turn: Turn,
    language: str,
    cancel: threading.Event | None,
    strict: bool = False,
    template_fallback: bool = True,
    scoped: bool = False,
) -> None:
    """`scoped`: only passages that pass the out-of-scope check answer (assistant/scope.py); `strict`:
    the classifier called the question out of scope, so the check's higher bars apply."""
    assert a.kb is not None
    t = time.perf_counter()
    k = a.settings.retrieval.top_k
    hits = a.kb.search(turn.query, k=k, language=language)
    other_language = False
    if not hits:
        hits = a.kb.search(turn.query, k=k)
        other_language = bool(hits)
    t = turn.stage("retrieval", t)
    found = bool(hits)
    if scoped or strict:
        ranking = turn.trace.get("intent", {}).get("ranking") or [[None]]
        hits = answering(turn.query, hits, a.settings.routing, oos=strict, nearest=ranking[0][0])
        # A retrieved template answers only a question of its intent, as on the template route.
        hits = [h for h in hits if h.kind != "template" or template_fits(turn.query, h, a.settings)[0]]
    turn.trace["retrieved"] = [
        {"id": h.id, "kind": h.kind, "title": h.title, "score": round(h.score, 4), "language": h.language}
        for h in hits
    ]
    if not hits:
        # Not when the out-of-scope check turned the passages down: the question is about something else.
        fallback_ok = turn.intent and template_fallback and not strict and not found
        template = a._template(turn.intent, language) if fallback_ok else None
        if template is not None and not template_fits(turn.query, template, a.settings)[0]:
            template = None  # the intent is only the nearest one the classifier knows
        if template is not None and turn.confidence >= a.settings.routing.template_fallback_confidence:
            turn.route = "template"
            turn.trace["decision"] = {
                "route": "template",
                "reason": "nothing retrieved; the intent's template",
            }
            # (slot filling retrieves in turn when a slot is missing, with this fallback off: no loop)
            slot_filling.answer_from_template(a, turn, template, language, cancel)
            return
        turn.route, turn.reply = "fallback", messages.text("fallback", language)
        turn.trace["decision"] = {"route": "fallback", "reason": "nothing relevant found"}
        return
    reply, verdict = compose(a, turn.query, passages_of(hits), language, cancel)
    hits.sort(key=lambda h: h.id != verdict.get("passage"))  # cite the passage the answer quotes first
    turn.stage("generation", t)
    turn.trace["guard"] = verdict
    if other_language:
        reply = (
            messages.text("other_language", language, lang=messages.language_name(hits[0].language, language))
            + reply
        )
    turn.route, turn.reply = "rag", reply
    turn.sources = cited(hits)
    turn.trace["decision"] = {"route": "rag", "reason": turn.trace.get("decision", {}).get("reason", "")}


def compose(
    a: Assistant, question: str, passages: list[Passage], language: str, cancel: threading.Event | None
) -> tuple[str, dict[str, Any]]:
    """A generated reply that passed the grounding guard, or the extractive answer.

    With `cancel` (a stream) the draft comes through `stream()`, so it can stop between tokens.
    """
    assert a.guard is not None and a.kb is not None
    g = a.settings.generator
    verdict: dict[str, Any] = {"ok": False, "reason": "no generator"}
    generator = a.generator  # one model for the whole reply, even if a new adapter comes in meanwhile
    if generator is not None:
        prompt = build_messages(question, passages[:3], language)
        try:
            if cancel is None:
                draft = generator.generate(prompt, max_new_tokens=g.max_new_tokens, timeout_s=g.timeout_s)
            else:
                draft = drain(
                    generator.stream(prompt, max_new_tokens=g.max_new_tokens, timeout_s=g.timeout_s),
                    cancel,
                )
            checked = a.guard.check(draft, passages[:3], language)
            verdict = {
                "ok": checked.ok,
                "reason": checked.reason,
                "support": round(checked.support, 3),
                "draft": draft,
            }
            if checked.ok:
                return draft.strip(), verdict
        except GenerationError as exc:
            verdict = {"ok": False, "reason": getattr(exc, "reason", "error"), "error": str(exc)}
    # Unit vectors are cached (they change only with the KB); an embedder that cannot read the language
    # (MiniLM and Chinese) would only add noise, so there the words alone rank the units.
    embedder = a.kb.embedder
    reads = embedder.languages
    dense = reads is None or language.split("-")[0] in reads
    composed = compose_answer(
        question,
        passages,
        language,
        embed=passage_vectors(embedder) if dense else None,
        embed_query=embedder.embed_queries if dense else None,
    )
    verdict["fallback"] = "extractive"
    verdict["passage"] = composed.passage.id if composed.passage else None
    return composed.text, verdict


def passages_of(hits: list[Hit]) -> list[Passage]:
    """What the generator and the composer read of the hits."""
    return [Passage(id=h.id, title=h.title, text=h.text, language=h.language, uri=h.uri) for h in hits]


def cited(hits: list[Hit], limit: int = 3) -> list[Hit]:
    """The best hit per document (or template), best first."""
    seen: set[str] = set()
    found: list[Hit] = []
    for h in hits:
        if h.uri in seen:
            continue
        seen.add(h.uri)
        found.append(h)
    return found[:limit]
