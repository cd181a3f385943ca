"""The assistant: one customer message in, one grounded, logged reply out.

The steps live next door: assistant/turn_flow.py decides a turn, answering.py retrieves and composes,
slot_filling.py fills templates, review_hooks.py queues turns for review."""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant.components import (
    build_generator,
    build_intent_model,
    build_knowledge_base,
    current_intent_model,
)
from assistant.config import Settings
from assistant.conversations import CLOSED, HANDOFF, OPEN, ConversationStore, DuplicateTurn
from assistant.dialogue import OFFER_HANDOFF
from assistant.generation import Generator, GroundingGuard, LocalGenerator
from assistant.generation.vector_cache import keep_warm
from assistant.guardrails import rewrite_follow_up
from assistant.home import make_private
from assistant.injection import default_detector
from assistant.message_language import message_language
from assistant.replays import stored_reply
from assistant.review_hooks import queue_for_review, queue_thumbs_down
from assistant.routing import Decision, decide
from assistant.schema import ChatReply, IntentOut
from assistant.slot_filling import answer_from_template
from assistant.sources import public_source
from assistant.startup import Startup
from assistant.streaming import reply_pieces
from assistant.turn import InputError, MessageIdConflict, NotReady, Turn, checked_message
from assistant.turn_flow import answer_turn, update_failures
from knowledge import KnowledgeBase, Template
from training import IntentClassifier
from training.review import ReviewQueue

__all__ = ["Assistant", "InputError", "MessageIdConflict", "NotReady", "Turn"]

log = logging.getLogger("lepton.assistant")


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
        self._languages: tuple[int, set[str]] | None = None  # (live KB version, its templates' languages)
        self.ready = False
        self.startup = Startup()
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._intent_lock = threading.Lock()
        self._intent_reload_lock = threading.Lock()
        self._generator_lock = threading.Lock()
        self._warm_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def warm_up(self, train_in_background: bool = False) -> None:
        """Load every model once; safe to call again and from several threads. A demo home with no intent
        model yet trains one; `train_in_background` (the server) answers at once, from retrieval alone, and
        swaps the model in when it is trained."""
        with self._warm_lock:
            if not self.ready:
                self._load(train_in_background)

    def _load(self, train_in_background: bool = False) -> None:
        s, step = self.settings, self.startup.advance
        step("preparing the home")
        make_private(s.home)  # created 0700; an older home's files lose group / other access
        step("loading the knowledge base")
        self.kb = build_knowledge_base(s)
        self.kb.warm_up()
        train_demo = False
        if s.demo:
            from assistant.bootstrap import ingest_demo, needs_demo_model

            step("adding the demo knowledge base")
            ingest_demo(self.kb)
            train_demo = needs_demo_model(s)
            if train_demo and not train_in_background:
                self._train_demo_model()
        # The composer's unit vectors, in the background: a KB's first questions then pay no embedding.
        keep_warm(self.kb)
        self._languages = None
        step("loading the intent model")
        self.reload_intents()
        step("loading the generator")
        self.generator = self._make_generator()
        if self.generator is not None:
            self.generator.warm_up()
        step("warming up")
        self.guard = GroundingGuard(embed=self.kb.embedder.embed_passages)
        default_detector().warm_up()  # fits the injection classifier once (under a second, cached vectors)
        # First calls are slow (langdetect loads its profiles, the classifier's heads warm up): pay them here.
        message_language("warming up the language profiles")
        if self.intents is not None:
            self.intents.predict(["warm up"])
        self.store = ConversationStore.from_settings(s)
        self.review = ReviewQueue.from_settings(s)
        self.listeners.append(functools.partial(queue_thumbs_down, self))
        self.ready = True
        background = train_demo and train_in_background
        self.startup.done("training the intent model" if background else None)
        if background:
            threading.Thread(target=self._train_demo_model, daemon=True, name="first-model").start()

    def _train_demo_model(self) -> None:
        """The demo's first intent model, as a retrain job (one at a time with any other), swapped in."""
        from assistant.bootstrap import demo_intent_files
        from assistant.operations import RetrainRunning, operations_for

        try:
            log.info("training the demo intent model (a few minutes on CPU)")
            job = operations_for(self).retraining
            outcome = job.run(demo_intent_files(), always_promote=True, trigger="first start")
            log.info("demo intent model %s: %s", outcome.version, outcome.reason)
        except RetrainRunning as exc:  # replicas starting together on new shared models: one trains for all
            if not self.ready:
                raise
            log.info("%s The model watch loads the first intent model once it is promoted.", exc)
        except Exception:
            if not self.ready:
                raise
            log.exception("the first intent model could not be trained; answers come from retrieval alone")
        finally:
            self.startup.finished_background()

    def _make_generator(self) -> Generator | None:
        return build_generator(self.settings)

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
        from assistant.model_registries import adapter_registry
        from training.generator_lora import current_adapter

        with self._generator_lock:  # the model watcher and an admin's promote may both ask: load once
            current = self.generator
            adapter = current_adapter(
                self.settings.home, current.model_path, registry=adapter_registry(self.settings)
            )
            if adapter == current.adapter_path:
                return adapter
            fresh = LocalGenerator(current.model_path, adapter_path=adapter, decoder=g.decoder)
            fresh.warm_up()
            self.generator = fresh
        log.info("generator adapter %s in service", adapter or "none (base model)")
        return adapter

    def reload_intents(self) -> str | None:
        """Load the registry's current intent model if it changed; the swap is atomic for requests."""
        # The model watch and an admin's promote often ask at once (the watch sees the new pointer while the
        # promote is loading): the second waits and finds it loaded instead of loading it again.
        with self._intent_reload_lock:
            current = current_intent_model(self.settings)
            if current is None:
                return None
            version, path = current
            if version == self.intent_version:
                return version
            model = build_intent_model(path)
            model.warm_up()
            with self._intent_lock:
                self.intents, self.intent_version = model, version
        log.info("intent model %s in service", version)
        return version

    # -- the path of one message --------------------------------------------------------------------
    def chat(
        self, message: str, session_id: str | None = None, client_message_id: str | None = None
    ) -> ChatReply:
        """Answer one message (validated, routed, logged). `client_message_id`: the client's idempotency key;
        a message already answered under it gets that turn back, with nothing done again (assistant/replays.py;
        MessageIdConflict when the key answered another message or session)."""
        return self._answer(message, session_id, client_message_id=client_message_id)

    def replay(self, message: str, session_id: str | None, client_message_id: str | None) -> ChatReply | None:
        """The turn already logged under `client_message_id` for this message and session (None: none, or no
        key); MessageIdConflict when the key answered another. Validates the message first (InputError)."""
        text = self.validate_message(message)
        store = self.live_store()
        return stored_reply(store, text, session_id, client_message_id) if client_message_id else None

    def chat_stream(
        self,
        message: str,
        session_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        client_message_id: str | None = None,
    ) -> Iterator[tuple[str, Any]]:
        """Yield ("token", text) pieces of the reply, then ("final", ChatReply); ("error", exc) on failure.

        Nothing is streamed before the grounding guard has ruled on the whole draft: the tokens are the final
        reply cut into pieces, so together they are exactly `final.reply` and a rejected draft never leaves.
        Setting `cancel` (or closing the iterator) stops the generator within a token or two. A message already
        answered under `client_message_id` streams the stored reply the same way.
        """
        # A replay needs no path of its own: `_answer` returns the stored turn, streamed below like any reply.
        self.validate_message(message)
        self.live_store()
        stop = threading.Event()  # ours, so closing the iterator cancels without touching the caller's event
        done: queue.Queue[tuple[str, Any]] = queue.Queue()

        def work() -> None:
            try:
                final = self._answer(message, session_id, cancel=stop, client_message_id=client_message_id)
                done.put(("final", final))
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
        """The conversation store once models are loaded; NotReady (503, with the start-up's stage) before."""
        if not self.ready or self.store is None:
            raise NotReady("The assistant is still starting; try again in a moment.", self.startup.as_dict())
        return self.store

    def validate_message(self, message: str) -> str:
        """The message stripped; InputError when it is empty, too long or not text."""
        return checked_message(message, self.settings.max_message_chars)

    def _answer(
        self,
        message: str,
        session_id: str | None,
        cancel: threading.Event | None = None,
        client_message_id: str | None = None,
    ) -> ChatReply:
        """One turn; `cancel` (streams only) stops the generator early, leaving the extractive answer."""
        self.live_store()
        assert self.store is not None and self.kb is not None
        text = self.validate_message(message)
        if client_message_id and (replayed := stored_reply(self.store, text, session_id, client_message_id)):
            return replayed
        turn = Turn(message=text, session=self.store.session(session_id))
        t = turn.started
        turn.language = message_language(text, default=turn.session.language or "en")
        turn.session.language = turn.language
        t = turn.stage("language", t)

        language = self._reply_language(turn)
        # An offer ("shall I connect you with a person?") is answered by the next message or lapses.
        offer, turn.session.offer = turn.session.offer, None

        def stands_alone(query: str) -> bool:  # retrieves confidently by itself: not a follow-up after all
            found = self.kb.search(query, k=1, language=language)
            return bool(found) and found[0].score >= self.settings.routing.oos_min_score

        turn.query = rewrite_follow_up(text, turn.session.topic, stands_alone)
        if turn.query != text:
            turn.trace["rewritten"] = turn.query
        t = turn.stage("follow_up", t)
        if turn.session.status == CLOSED:
            turn.session.status = OPEN  # the agent closed it: the bot answers again, from a clean slate
        answer_turn(self, turn, offer, language, cancel, t)
        # A new question starts a new topic (answered or not); a follow-up keeps the one it follows.
        asked = turn.route in ("template", "rag", "clarify", "fallback") and not turn.trace.get("injection")
        if asked and turn.query == text:
            turn.session.topic = text
        update_failures(self, turn)
        # The fallback reply offers a person too; an offer stands for the next message only.
        offered = turn.trace.get("offer") or (turn.route == "fallback" and not turn.trace.get("injection"))
        turn.session.offer = OFFER_HANDOFF if offered and turn.session.status != HANDOFF else None
        latency = (time.perf_counter() - turn.started) * 1000
        turn.trace["stages_ms"]["total"] = round(latency, 2)
        sources = [public_source(h, self.settings.public_base_url) for h in turn.sources]
        try:
            message_id = self._log(turn, sources, latency, client_message_id)
        except DuplicateTurn:
            # The same message was answered and logged meanwhile (a concurrent retry): that turn is the reply.
            replayed = stored_reply(self.store, text, session_id, client_message_id or "")
            assert replayed is not None
            return replayed
        if turn.route == "handoff" and turn.trace.get("handoff_started"):
            self._emit("handoff", {"session_id": turn.session.id, "message_id": message_id})
        queue_for_review(self, turn, message_id)
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

    def _log(self, turn: Turn, sources: list[Any], latency: float, client_message_id: str | None) -> str:
        """Log the turn and the session's new state in one transaction; DuplicateTurn, with nothing written,
        when another request logged a turn under `client_message_id` first."""
        assert self.store is not None
        return self.store.log_turn(
            turn.session,
            {
                "id": uuid.uuid4().hex,
                "message": turn.message,
                "language": turn.language,
                "intent": turn.intent,
                "confidence": turn.confidence,
                "route": turn.route,
                "sources": [s.model_dump() for s in sources],
                "reply": turn.reply,
                "public": [h.text for h in turn.sources],
                "latency_ms": latency,
                "trace": turn.trace,
                "client_message_id": client_message_id,
            },
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
        found = self.kb.templates(intent=intent, language=language)
        return found[0] if found else None

    @property
    def languages(self) -> set[str]:
        """The live templates' languages, read again once another version goes live (through this replica or
        any other on the same database): one primary-key read of the live version per call."""
        if self.kb is None:
            return {"en"}
        version = self.kb.live_version()
        if self._languages is None or self._languages[0] != version:
            self._languages = (version, {t.language for t in self.kb.templates()} or {"en"})
        return self._languages[1]

    def _reply_language(self, turn: Turn) -> str:
        """The customer's language when the knowledge base has content in it, else English."""
        languages = self.languages
        if turn.language in languages:
            return turn.language
        return "en" if "en" in languages else sorted(languages)[0]

    def _answer_from_template(
        self, turn: Turn, template: Template, language: str, cancel: threading.Event | None = None
    ) -> None:
        """The template's answer with its slots filled (assistant/slot_filling.py)."""
        answer_from_template(self, turn, template, language, cancel)

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        for listener in self.listeners:
            try:
                listener(kind, payload)
            except Exception:  # a broken listener must not break a customer's turn
                log.exception("event listener failed")
