"""The generator's training data: approved question -> answer pairs from the logs, and their encoding.

A pair is a logged turn (the conversation log's `turns`) whose reply got a thumbs-up (`feedback.rating = 'up'`),
or whose route is template/rag and whose review item a person confirmed (the review queue, status confirmed).
Both are read through their stores (`PairSources`), on SQLite or PostgreSQL alike.
The logged text is already redacted: a reply that lost data to a tag ("write to [EMAIL]") is left out, or the
model would learn to write tags; a question asked several times counts once (its latest answer). A pair is
encoded in the runtime's chat format (`build_messages`, with the turn's cited snippets as passages), with the
loss on the answer tokens only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from knowledge.redaction import has_tags
from training.generator_prompt import Passage, build_messages
from training.review import ReviewQueue

APPROVED_ROUTES = ("template", "rag")


class TurnLog(Protocol):
    """The conversation log as the pairs read it (assistant/conversations.py's ConversationStore)."""

    def turns_for_training(self, routes: Iterable[str]) -> list[dict[str, Any]]: ...


@dataclass
class PairSources:
    """Where the pairs come from: the conversation log and the review queue of one home or database."""

    turns: TurnLog
    review: ReviewQueue | None = None


@dataclass
class Pair:
    """One approved question -> answer example, with the passages the reply cited."""

    turn_id: str
    question: str
    answer: str
    language: str
    passages: list[Passage] = field(default_factory=list)


def _passages(sources: str | None, language: str) -> list[Passage]:
    try:
        items = json.loads(sources or "[]")
    except json.JSONDecodeError:
        return []
    out = []
    for s in items if isinstance(items, list) else []:
        if isinstance(s, dict) and s.get("snippet"):
            out.append(
                Passage(
                    id=str(s.get("id", "")),
                    title=str(s.get("title", "")),
                    text=str(s["snippet"]),
                    language=language,
                    uri=str(s.get("uri", "")),
                )
            )
    return out[:3]  # the runtime composes from at most three passages


def collect_pairs(sources: PairSources | None) -> list[Pair]:
    """Approved pairs, oldest first (thumbs-up, or template/rag turns a reviewer confirmed); none without
    sources."""
    if sources is None:
        return []
    confirmed = sources.review.confirmed_turns() if sources.review is not None else set()
    pairs = []
    for r in sources.turns.turns_for_training(APPROVED_ROUTES):
        question, answer = (r["message"] or "").strip(), (r["reply"] or "").strip()
        if not question or not answer:
            continue
        if r["liked"] or (r["route"] in APPROVED_ROUTES and r["id"] in confirmed):
            language = r["language"] or "en"
            pairs.append(Pair(r["id"], question, answer, language, _passages(r["sources"], language)))
    return pairs


def _key(question: str) -> str:
    return " ".join(question.lower().split())


def training_pairs(sources: PairSources | None) -> tuple[list[Pair], dict[str, int]]:
    """The approved pairs fit to train on, and how many were left out (`redacted`, `duplicates`).

    A reply with a redaction tag is left out: the model would learn to answer "write to [EMAIL]". Of a question
    asked several times only the latest answer counts, so fifty copies do not outweigh the rest.
    """
    approved = collect_pairs(sources)
    clean = [p for p in approved if not has_tags(p.answer)]
    latest = {_key(p.question): p for p in clean}  # oldest first: the last one wins
    pairs = [p for p in clean if latest[_key(p.question)] is p]
    return pairs, {"redacted": len(approved) - len(clean), "duplicates": len(clean) - len(pairs)}


def split_pairs(pairs: list[Pair], share: float = 0.2) -> tuple[list[Pair], list[Pair]]:
    """(train, held_out): a question is held out when its hash falls in the first `share`, so it keeps its side
    as the logs grow; at least one pair is held out (the one with the smallest hash) when there are two or more."""

    def rank(p: Pair) -> float:
        return int(hashlib.sha256(_key(p.question).encode()).hexdigest()[:12], 16) / 16**12

    held = [p for p in pairs if rank(p) < share]
    if not held and len(pairs) >= 2:
        held = [min(pairs, key=rank)]
    out = {id(p) for p in held}
    return [p for p in pairs if id(p) not in out], held


def fingerprint(pairs: list[Pair]) -> str:
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.turn_id, p.question, p.answer, [q.text for q in p.passages]]).encode())
    return h.hexdigest()[:16]


def encode_pair(tokenizer: Any, pair: Pair, eos_id: int, max_length: int) -> tuple[list[int], list[int]]:
    """(input_ids, labels): the runtime prompt (masked with -100) followed by the answer and end-of-turn."""

    def prompt_ids(passages: list[Passage]) -> list[int]:
        enc = tokenizer.apply_chat_template(
            build_messages(pair.question, passages, pair.language),
            add_generation_prompt=True,
            return_dict=True,
        )
        return list(enc["input_ids"])

    answer = list(tokenizer(pair.answer, add_special_tokens=False)["input_ids"]) + [eos_id]
    prompt = prompt_ids(pair.passages)
    if len(prompt) + len(answer) > max_length and pair.passages:
        prompt = prompt_ids([])  # too long with the passages: keep the question only
    answer = answer[: max(1, max_length - len(prompt))]
    return prompt + answer, [-100] * len(prompt) + answer
