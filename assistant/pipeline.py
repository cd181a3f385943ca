"""The assistant: one customer message in, one grounded, logged reply out."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant import messages
from assistant.config import Settings
from assistant.conversations import CLOSED, HANDOFF, OPEN, ConversationStore, Session
from assistant.dialogue import (
    OFFER_HANDOFF,
    answer_to_offer,
    asks_for_contact_details,
    contact_hits,
    contact_query,
)
from assistant.generation import (
    GenerationError,
    Generator,
    GroundingGuard,
    LocalGenerator,
    Passage,
    build_messages,
)
from assistant.generation.backend import make_generator
from assistant.generation.extractive import compose_answer
from assistant.generation.vector_cache import keep_warm, passage_vectors
from assistant.guardrails import asks_for_human, negativity, rewrite_follow_up
from assistant.home import make_private
from assistant.injection import default_detector
from assistant.language import detect_language
from assistant.routing import HANDOFF_INTENT, Decision, decide
from assistant.schema import ChatReply, IntentOut, SourceOut
from assistant.scope import answering, template_fits
from assistant.sources import public_source
from assistant.streaming import drain, reply_pieces
from knowledge import Hit, KnowledgeBase, Template, make_embedder
from knowledge.slots import Slot, SlotError, template_slots
from training import IntentClassifier, ModelRegistry
from training.review import ReviewQueue

log = logging.getLogger("lepton.assistant")


class NotReady(RuntimeError):
    """Models are still loading."""


class InputError(ValueError):
    """A message the assistant refuses to process (empty, too long)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Turn:
    """Everything decided while answering one message; becomes the reply and the log row."""

    message: str
    session: Session
    query: str = ""
    language: str = "en"
    intent: str | None = None
    confidence: float = 0.0
    route: str = "fallback"
    reply: str = ""
    sources: list[Hit] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def stage(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.trace.setdefault("stages_ms", {})[name] = round((now - since) * 1000, 2)
        return now


class Assistant:
    """Routes, retrieves, generates and logs; build once per process, then `warm_up()`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kb: KnowledgeBase | None = None
        self.intents: IntentClassifier | None = None
        self.intent_version: str | None = None
        self.generator: Generator | None = None
        self.guard: GroundingGuard | None = None
        self.store: ConversationStore | None = None
        self.review: ReviewQueue | None = None
        self.languages: set[str] = {"en"}
        self.ready = False
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._kb_lock = threading.Lock()
        self._intent_lock = threading.Lock()
        self._generator_lock = threading.Lock()
        self._warm_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load every model once; safe to call again and from several threads."""
        with self._warm_lock:
            if not self.ready:
                self._load()

    def _load(self) -> None:
        s = self.settings
        make_private(s.home)  # created 0700; an older home's files lose group / other access
        r = s.retrieval
        embedder = make_embedder(
            r.embedder,
            path=r.embedder_path,
            base_url=r.embedder_url,
            api_key=r.embedder_api_key.get_secret_value() if r.embedder_api_key else None,
            model=r.embedder_model,
        )
        kb_kwargs: dict[str, Any] = {"embedder": embedder, "chroma_url": s.chroma_url}
        if r.min_score is not None:
            kb_kwargs["min_score"] = r.min_score
        self.kb = KnowledgeBase(s.kb_dir, **kb_kwargs)
        self.kb.warm_up()
        if s.demo:
            from assistant.bootstrap import prepare_demo

            prepare_demo(s, self.kb)
        # The composer's unit vectors, in the background: a KB's first questions then pay no embedding.
        keep_warm(self.kb)
        self.languages = {t.language for t in self.kb.templates()} or {"en"}
        self.reload_intents()
        self.generator = self._make_generator()
        if self.generator is not None:
            self.generator.warm_up()
        self.guard = GroundingGuard(embed=self.kb.embedder.embed_passages)
        default_detector().warm_up()  # fits the injection classifier once (under a second, cached vectors)
        # First calls are slow (langdetect loads its profiles, the classifier's heads warm up): pay them here.
        detect_language("warming up the language profiles")
        if self.intents is not None:
            self.intents.predict(["warm up"])
        self.store = ConversationStore(s.logs_path)
        self.review = ReviewQueue(s.home / "review.db")
        self.listeners.append(self._queue_thumbs_down)
        self.ready = True

    def _make_generator(self) -> Generator | None:
        return make_generator(self.settings)

    @property
    def generator_adapter(self) -> str | None:
        """The adapter version the local generator has merged (None: the base model, or no local generator)."""
        path = getattr(self.generator, "adapter_path", None)
        return path.parent.name if path is not None and self.generator.adapter_loaded else None

    def reload_generator(self) -> Path | None:
        """Switch the local generator to the registry's current adapter if it changed (a promotion or a
        rollback); the new model is loaded aside and swapped in, so no request waits or fails. Returns the
        adapter in service (None: the base model)."""
        g = self.settings.generator
        if not isinstance(self.generator, LocalGenerator) or g.adapter != "current":
            return None
        from training.generator_lora import current_adapter

        with self._generator_lock:  # the model watcher and an admin's promote may both ask: load once
            current = self.generator
            adapter = current_adapter(self.settings.home, current.model_path)
            if adapter == current.adapter_path:
                return adapter
            fresh = LocalGenerator(current.model_path, adapter_path=adapter, decoder=g.decoder)
            fresh.warm_up()
            self.generator = fresh
        log.info("generator adapter %s in service", adapter or "none (base model)")
        return adapter

    def reload_intents(self) -> str | None:
        """Load the registry's current intent model if it changed; the swap is atomic for requests."""
        current = ModelRegistry(self.settings.intents_dir).current()
        if current is None:
            return None
        version, path = current
        if version == self.intent_version:
            return version
        model = IntentClassifier.load(path)
        model.warm_up()
        with self._intent_lock:
            self.intents, self.intent_version = model, version
        log.info("intent model %s in service", version)
        return version

    # -- the path of one message --------------------------------------------------------------------
    def chat(self, message: str, session_id: str | None = None) -> ChatReply:
        """Answer one message (validated, routed, logged)."""
        return self._answer(message, session_id)

    def chat_stream(
        self, message: str, session_id: str | None = None, *, cancel: threading.Event | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Yield ("token", text) pieces of the reply, then ("final", ChatReply); ("error", exc) on failure.

        Nothing is streamed before the grounding guard has ruled on the whole draft: the tokens are the final
        reply cut into pieces, so together they are exactly `final.reply` and a rejected draft never leaves.
        Setting `cancel` (or closing the iterator) stops the generator within a token or two.
        """
        self.validate_message(message)
        self.live_store()
        stop = threading.Event()  # ours, so closing the iterator cancels without touching the caller's event
        done: queue.Queue[tuple[str, Any]] = queue.Queue()

        def work() -> None:
            try:
                done.put(("final", self._answer(message, session_id, cancel=stop)))
            except Exception as exc:  # reported to the client as an error event
                log.exception("turn failed")
                done.put(("error", exc))

        threading.Thread(target=work, name="lepton-turn", daemon=True).start()
        try:
            while True:
                try:
                    kind, value = done.get(timeout=0.1)
                    break
                except queue.Empty:
                    if cancel is not None and cancel.is_set():
                        return
            if kind == "final":
                for piece in reply_pieces(value.reply):
                    yield "token", piece
            yield kind, value
        finally:
            stop.set()

    def live_store(self) -> ConversationStore:
        """The conversation store once models are loaded; NotReady (503) before that."""
        if not self.ready or self.store is None:
            raise NotReady("The assistant is still starting; try again in a moment.")
        return self.store

    def validate_message(self, message: str) -> str:
        text = message.strip()
        if not text:
            raise InputError("empty_message", "The message is empty.")
        if len(message) > self.settings.max_message_chars:
            raise InputError(
                "message_too_long",
                f"The message is longer than {self.settings.max_message_chars} characters.",
            )
        if "\x00" in message:
            raise InputError("invalid_message", "The message contains a NUL character.")
        if not message.isascii() and any("\ud800" <= ch <= "\udfff" for ch in message):
            raise InputError("invalid_message", "The message is not valid Unicode text (a lone surrogate).")
        return text

    def _answer(
        self, message: str, session_id: str | None, cancel: threading.Event | None = None
    ) -> ChatReply:
        """One turn; `cancel` (streams only) stops the generator early, leaving the extractive answer."""
        self.live_store()
        assert self.store is not None and self.kb is not None
        text = self.validate_message(message)
        turn = Turn(message=text, session=self.store.session(session_id))
        t = turn.started
        turn.language = detect_language(text, default=turn.session.language or "en")
        turn.session.language = turn.language
        t = turn.stage("language", t)

        language = self._reply_language(turn)
        # An offer ("shall I connect you with a person?") is answered by the next message or lapses.
        offer, turn.session.offer = turn.session.offer, None

        def stands_alone(query: str) -> bool:  # retrieves confidently by itself: not a follow-up after all
            with self._kb_lock:
                found = self.kb.search(query, k=1, language=language)
            return bool(found) and found[0].score >= self.settings.routing.oos_min_score

        turn.query = rewrite_follow_up(text, turn.session.topic, stands_alone)
        if turn.query != text:
            turn.trace["rewritten"] = turn.query
        t = turn.stage("follow_up", t)
        if turn.session.status == CLOSED:
            turn.session.status = OPEN  # the agent closed it: the bot answers again, from a clean slate
        if turn.session.status == HANDOFF:
            turn.route, turn.reply = "handoff", messages.text("handoff_waiting", self._reply_language(turn))
            turn.trace["decision"] = {"route": "handoff", "reason": "session is with a human agent"}
        elif (attack := default_detector().run(text)).attack:
            turn.route, turn.reply = "fallback", messages.text("refuse", self._reply_language(turn))
            turn.trace["decision"] = {
                "route": "fallback",
                "reason": f"prompt injection or markup in the message ({attack.reason})",
            }
            turn.trace["injection"] = {"reason": attack.reason, "score": attack.score}
        elif attack.guarded:
            # unsure but risky: no KB content, only the fallback (and its offer of a person stands)
            turn.route, turn.reply = "fallback", messages.text("fallback", self._reply_language(turn))
            turn.trace["decision"] = {
                "route": "fallback",
                "reason": "possible prompt injection, not answered",
            }
            turn.trace["injection"] = {"reason": attack.reason, "score": attack.score, "guarded": True}
            turn.trace["offer"] = OFFER_HANDOFF
        elif offer == OFFER_HANDOFF and (accepted := answer_to_offer(text)) is not None:
            if accepted:
                turn.intent, turn.confidence = HANDOFF_INTENT, 1.0
                self._start_handoff(turn, language)
            else:
                turn.route, turn.reply = "smalltalk", messages.text("offer_declined", language)
            said = "accepted" if accepted else "declined"
            turn.trace["decision"] = {"route": turn.route, "reason": f"customer {said} the offer of a person"}
        elif asks_for_human(text):
            turn.intent, turn.confidence = HANDOFF_INTENT, 1.0
            self._start_handoff(turn, self._reply_language(turn))
            turn.trace["decision"] = {"route": "handoff", "reason": "customer asked for a person"}
        elif negativity(text) >= self.settings.routing.anger_handoff:
            self._start_handoff(turn, self._reply_language(turn))
            turn.trace["decision"] = {
                "route": "handoff",
                "reason": f"strong negative sentiment ({negativity(text):.2f})",
            }
        elif not self._answer_pending_slot(turn):
            decision = self._classify(turn)
            t = turn.stage("intent", t)
            # A question FOR contact details is answered from the passage that states them, with a person
            # offered; only a confident other intent (its template) keeps it. It never hands off by itself.
            found: list[Hit] = []
            contact = asks_for_contact_details(text) and decision.route in (None, "handoff")
            if contact:
                query, k = contact_query(text, language), 2 * self.settings.retrieval.top_k
                with self._kb_lock:
                    found = contact_hits(self.kb.search(query, k=k, language=language), text)
                decision = replace(decision, route=None, reason=f"contact details asked; {decision.reason}")
            if found:
                passages = [
                    Passage(id=h.id, title=h.title, text=h.text, language=h.language, uri=h.uri)
                    for h in found
                ]
                reply, verdict = self._compose(text, passages, language, cancel)
                turn.stage("contact", t)
                found.sort(key=lambda h: h.id != verdict.get("passage"))  # cite the passage it quotes first
                turn.route, turn.reply, turn.sources = "rag", reply, self._cited(found)
                turn.trace["guard"] = verdict
                turn.trace["decision"] = {"route": "rag", "reason": "contact details asked: stated"}
            else:
                self._route(turn, decision, cancel)
            if contact and turn.route in ("template", "rag"):
                turn.reply = f"{turn.reply}\n\n{messages.text('offer_person', language)}"
                turn.trace["offer"] = OFFER_HANDOFF
        # A new question starts a new topic (answered or not); a follow-up keeps the one it follows.
        asked = turn.route in ("template", "rag", "clarify", "fallback") and not turn.trace.get("injection")
        if asked and turn.query == text:
            turn.session.topic = text
        self._update_failures(turn)
        # The fallback reply offers a person too; an offer stands for the next message only.
        offered = turn.trace.get("offer") or (turn.route == "fallback" and not turn.trace.get("injection"))
        turn.session.offer = OFFER_HANDOFF if offered and turn.session.status != HANDOFF else None
        latency = (time.perf_counter() - turn.started) * 1000
        turn.trace["stages_ms"]["total"] = round(latency, 2)
        sources = [self._source(h) for h in turn.sources]
        message_id = self.store.log_turn(
            turn.session,
            {
                "id": uuid.uuid4().hex,
                "message": text,
                "language": turn.language,
                "intent": turn.intent,
                "confidence": turn.confidence,
                "route": turn.route,
                "sources": [s.model_dump() for s in sources],
                "reply": turn.reply,
                "public": [h.text for h in turn.sources],
                "latency_ms": latency,
                "trace": turn.trace,
            },
        )
        if turn.route == "handoff" and turn.trace.get("handoff_started"):
            self._emit("handoff", {"session_id": turn.session.id, "message_id": message_id})
        self._queue_for_review(turn, message_id)
        return ChatReply(
            session_id=turn.session.id,
            message_id=message_id,
            reply=turn.reply,
            language=turn.language,
            intent=IntentOut(name=turn.intent, confidence=round(turn.confidence, 4)),
            route=turn.route,  # type: ignore[arg-type]
            sources=sources,
            latency_ms=round(latency, 2),
        )

    def _classify(self, turn: Turn) -> Decision:
        with self._intent_lock:
            model = self.intents
        if model is None:
            return decide(None, 0.0, [], self._has_template_for(turn), self.settings.routing)
        pred = model.predict([turn.query])[0]
        turn.intent, turn.confidence = pred.name, float(pred.confidence)
        turn.trace["intent"] = {
            "name": pred.name,
            "confidence": round(float(pred.confidence), 4),
            "ranking": [[n, round(float(p), 4)] for n, p in pred.ranking],
            "model": self.intent_version,
        }
        return decide(
            pred.name,
            pred.confidence,
            list(pred.ranking),
            self._has_template_for(turn),
            self.settings.routing,
        )

    def _has_template_for(self, turn: Turn) -> Callable[[str], bool]:
        language = self._reply_language(turn)
        return lambda intent: self._template(intent, language) is not None

    def _template(self, intent: str, language: str) -> Template | None:
        assert self.kb is not None
        with self._kb_lock:
            found = self.kb.templates(intent=intent, language=language)
        return found[0] if found else None

    def _reply_language(self, turn: Turn) -> str:
        """The customer's language when the knowledge base has content in it, else English."""
        if turn.language in self.languages:
            return turn.language
        return "en" if "en" in self.languages else sorted(self.languages)[0]

    def _route(self, turn: Turn, decision: Decision, cancel: threading.Event | None) -> None:
        turn.trace["decision"] = {"route": decision.route, "reason": decision.reason}
        language = self._reply_language(turn)
        if decision.route == "handoff":
            self._start_handoff(turn, language)
        elif decision.route == "fallback":
            turn.route, turn.reply = "fallback", messages.text("fallback", language)
        elif decision.route in ("template", "smalltalk"):
            template = self._template(decision.intent or "", language)
            assert template is not None
            fits, covered = template_fits(turn.query, template, self.settings)
            if decision.route == "template" and not fits:
                # The nearest intent the classifier knows, not what was asked: retrieval decides, scoped.
                turn.trace["template_check"] = {"template": template.id, "coverage": round(covered, 3)}
                turn.trace["decision"]["reason"] += f"; the question is not {template.id}'s: retrieval"
                self._retrieve_and_compose(turn, language, cancel, strict=True, scoped=True)
                return
            turn.route = decision.route
            self._answer_from_template(turn, template, language, cancel)
        elif decision.route == "clarify":
            a, b = (self._template(name, language) for name in decision.alternatives[:2])
            turn.route = "clarify"
            turn.reply = messages.text("clarify", language, a=a.title if a else "", b=b.title if b else "")
        elif (template := self._template_with_its_slots(turn, decision, language)) is not None:
            turn.route = "template"
            turn.trace["decision"] = {
                "route": "template",
                "reason": f"{decision.reason}; the message supplies the slots of {template.id}",
            }
            self._answer_from_template(turn, template, language, cancel)
        else:
            # A follow-up leans on an answered question: the out-of-scope check does not apply to it.
            own = turn.query == turn.message
            self._retrieve_and_compose(turn, language, cancel, strict=decision.strict and own, scoped=own)
            if turn.route == "rag":
                self._offer_slot(turn, decision, language)

    def _answer_from_template(
        self, turn: Turn, template: Template, language: str, cancel: threading.Event | None = None
    ) -> None:
        """Fill `{slots}` from the message or the session; when one is missing, answer the general
        question from the knowledge base and ask for the value (the next turn can then use the template).
        Slots are declared in the knowledge base (knowledge/slots.py)."""
        try:
            slots: list[str] | None = template_slots(template.answer)
        except SlotError:  # stored before answers were checked: shown as written, never a 500
            slots = None
        declared = self._slots()
        values: dict[str, str] = {}
        for slot in slots or []:
            spec = declared.get(slot)
            value = (spec.find(turn.message) if spec else None) or turn.session.slots.get(slot)
            if value is None:
                turn.trace["slot"] = {"missing": slot, "template": template.id, "declared": spec is not None}
                # Not back to this template when nothing is retrieved: the slot would be missing again, forever.
                self._retrieve_and_compose(turn, language, cancel, template_fallback=False)
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
        turn.sources = [self._template_hit(template)]

    def _answer_pending_slot(self, turn: Turn) -> bool:
        """Answer the template that waited for a slot when this message supplies it."""
        pending = turn.session.pending
        if not pending:
            return False
        turn.session.pending = None
        if self._find_slot(pending["slot"], turn.message) is None:
            return False
        assert self.kb is not None
        with self._kb_lock:
            template = self.kb.get_template(pending["template_id"])
        if template is None:
            return False
        turn.route, turn.intent, turn.confidence = "template", pending["intent"], 1.0
        turn.trace["decision"] = {"route": "template", "reason": f"slot {pending['slot']} supplied"}
        self._answer_from_template(turn, template, self._reply_language(turn))
        return True

    def _slots(self) -> dict[str, Slot]:
        """The slots the live knowledge base declares."""
        assert self.kb is not None
        with self._kb_lock:
            return self.kb.slots()

    def _find_slot(self, slot: str, message: str) -> str | None:
        spec = self._slots().get(slot)
        return spec.find(message) if spec is not None else None

    def _offer_slot(self, turn: Turn, decision: Decision, language: str) -> None:
        """After a general answer, ask for the value the likely intent's template needs ("where's my
        order?" at 0.4 for order_status: the help-centre answer, then the question for the order number)."""
        found = self._slot_template(decision, language)
        if found is None:
            return
        template, slots = found
        declared = self._slots()
        missing = [s for s in slots if not turn.session.slots.get(s) and not self._find_slot(s, turn.message)]
        ask = declared[missing[0]].ask_text(language) if missing and missing[0] in declared else None
        if ask:
            turn.reply = f"{turn.reply}\n\n{ask}"
            turn.session.pending = {"template_id": template.id, "slot": missing[0], "intent": template.intent}
            turn.trace["slot"] = {"missing": missing[0], "template": template.id, "offered": True}

    def _template_with_its_slots(self, turn: Turn, decision: Decision, language: str) -> Template | None:
        """The intent's template when the message carries every slot value it needs: an order number
        the customer typed corroborates an intent the classifier is not quite sure of."""
        found = self._slot_template(decision, language)
        if found is None or any(self._find_slot(slot, turn.message) is None for slot in found[1]):
            return None
        return found[0]

    def _slot_template(self, decision: Decision, language: str) -> tuple[Template, list[str]] | None:
        """The decided intent's template and its slots, when it has some and the intent is likely enough."""
        likely = decision.confidence >= self.settings.routing.template_fallback_confidence
        template = self._template(decision.intent, language) if decision.intent and likely else None
        try:
            slots = template_slots(template.answer) if template is not None else []
        except SlotError:
            return None
        return (template, slots) if template is not None and slots else None

    def _retrieve_and_compose(
        self,
        turn: Turn,
        language: str,
        cancel: threading.Event | None,
        strict: bool = False,
        template_fallback: bool = True,
        scoped: bool = False,
    ) -> None:
        """`scoped`: only passages that pass the out-of-scope check answer (assistant/scope.py); `strict`:
        the classifier called the question out of scope, so the check's higher bars apply."""
        assert self.kb is not None
        t = time.perf_counter()
        k = self.settings.retrieval.top_k
        with self._kb_lock:
            hits = self.kb.search(turn.query, k=k, language=language)
            other_language = False
            if not hits:
                hits = self.kb.search(turn.query, k=k)
                other_language = bool(hits)
        t = turn.stage("retrieval", t)
        found = bool(hits)
        if scoped or strict:
            hits = answering(turn.query, hits, self.settings.routing, oos=strict)
            # A retrieved template answers only a question of its intent, as on the template route.
            hits = [h for h in hits if h.kind != "template" or template_fits(turn.query, h, self.settings)[0]]
        turn.trace["retrieved"] = [
            {"id": h.id, "kind": h.kind, "title": h.title, "score": round(h.score, 4), "language": h.language}
            for h in hits
        ]
        if not hits:
            # Not when the out-of-scope check turned the passages down: the question is about something else.
            fallback_ok = turn.intent and template_fallback and not strict and not found
            template = self._template(turn.intent, language) if fallback_ok else None
            if template is not None and not template_fits(turn.query, template, self.settings)[0]:
                template = None  # the intent is only the nearest one the classifier knows
            if template is not None and turn.confidence >= self.settings.routing.template_fallback_confidence:
                turn.route = "template"
                turn.trace["decision"] = {
                    "route": "template",
                    "reason": "nothing retrieved; the intent's template",
                }
                self._answer_from_template(turn, template, language, cancel)
                return
            turn.route, turn.reply = "fallback", messages.text("fallback", language)
            turn.trace["decision"] = {"route": "fallback", "reason": "nothing relevant found"}
            return
        passages = [
            Passage(id=h.id, title=h.title, text=h.text, language=h.language, uri=h.uri) for h in hits
        ]
        reply, verdict = self._compose(turn.query, passages, language, cancel)
        hits.sort(key=lambda h: h.id != verdict.get("passage"))  # cite the passage the answer quotes first
        turn.stage("generation", t)
        turn.trace["guard"] = verdict
        if other_language:
            reply = (
                messages.text(
                    "other_language", language, lang=messages.language_name(hits[0].language, language)
                )
                + reply
            )
        turn.route, turn.reply = "rag", reply
        turn.sources = self._cited(hits)
        turn.trace["decision"] = {"route": "rag", "reason": turn.trace.get("decision", {}).get("reason", "")}

    def _compose(
        self, question: str, passages: list[Passage], language: str, cancel: threading.Event | None
    ) -> tuple[str, dict[str, Any]]:
        """A generated reply that passed the grounding guard, or the extractive answer.

        With `cancel` (a stream) the draft comes through `stream()`, so it can stop between tokens.
        """
        assert self.guard is not None and self.kb is not None
        g = self.settings.generator
        verdict: dict[str, Any] = {"ok": False, "reason": "no generator"}
        generator = self.generator  # one model for the whole reply, even if a new adapter comes in meanwhile
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
                checked = self.guard.check(draft, passages[:3], language)
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
        embedder = self.kb.embedder
        reads = getattr(embedder, "languages", None)
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

    @staticmethod
    def _cited(hits: list[Hit], limit: int = 3) -> list[Hit]:
        """The best hit per document (or template), best first."""
        seen: set[str] = set()
        cited: list[Hit] = []
        for h in hits:
            if h.uri in seen:
                continue
            seen.add(h.uri)
            cited.append(h)
        return cited[:limit]

    def _start_handoff(self, turn: Turn, language: str) -> None:
        turn.route, turn.reply = "handoff", messages.text("handoff", language)
        turn.session.status = HANDOFF
        turn.trace["handoff_started"] = True

    def _update_failures(self, turn: Turn) -> None:
        session = turn.session
        if turn.route == "fallback" and not turn.trace.get("injection"):
            session.failures += 1
            if session.failures >= self.settings.routing.max_failures and session.status != HANDOFF:
                language = self._reply_language(turn)
                turn.reply = turn.reply + "\n\n" + messages.text("handoff", language)
                turn.route = "handoff"
                session.status = HANDOFF
                turn.trace["handoff_started"] = True
                turn.trace["decision"] = {
                    "route": "handoff",
                    "reason": f"{session.failures} unanswered turns in a row",
                }
        elif turn.route in ("template", "rag"):
            session.failures = 0

    @staticmethod
    def _template_hit(template: Template) -> Hit:
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

    def _source(self, hit: Hit) -> SourceOut:
        """What the customer sees of a source: its public URL or `kb:<path>`, never the server's file path."""
        return public_source(hit, self.settings.public_base_url)

    def _queue_for_review(self, turn: Turn, message_id: str) -> None:
        """Turns a person should look at: unanswered, out of scope, unsure, handed off."""
        reasons = []
        if turn.route == "fallback":
            reasons.append("unanswered")
        if turn.intent == "out_of_scope":
            reasons.append("out_of_scope")
        if turn.trace.get("handoff_started"):
            reasons.append("handoff")
        unsure = turn.intent is not None and turn.confidence < self.settings.routing.template_confidence
        if unsure and turn.route not in ("smalltalk", "handoff"):
            reasons.append("low_confidence")
        for reason in reasons:
            self._review_add(
                message_id, turn.message, reason, turn.session.id, turn.language, turn.intent, turn.confidence
            )

    def _review_add(
        self,
        message_id: str,
        text: str,
        reason: str,
        session_id: str,
        language: str,
        intent: str | None,
        confidence: float,
    ) -> None:
        assert self.review is not None
        if self.review.add(
            message_id,
            text,
            reason,
            session_id=session_id,
            language=language,
            predicted=intent,
            confidence=confidence,
        ):
            self._emit("review_item", {"message_id": message_id, "reason": reason})

    def _queue_thumbs_down(self, kind: str, payload: dict[str, Any]) -> None:
        if kind != "feedback" or payload.get("rating") != "down" or self.store is None:
            return
        turn = self.store.turn(str(payload.get("message_id", "")))
        if turn is not None:
            self._review_add(
                turn["id"],
                turn["message"],
                "thumbs_down",
                turn["session_id"],
                turn["language"] or "",
                turn["intent"],
                turn["confidence"] or 0.0,
            )

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        for listener in self.listeners:
            try:
                listener(kind, payload)
            except Exception:  # a broken listener must not break a customer's turn
                log.exception("event listener failed")
