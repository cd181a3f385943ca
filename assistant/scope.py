"""Out of scope stays out: which retrieved passages may answer a question routed to retrieval.

A passage answers when it matches strongly, or fairly and it contains most of the question's content words
(`knowledge.lexical.coverage`): a question about something the knowledge base does not cover ("do you sell
phone contracts?") often lands on a loosely related document with a middling score, and its key words
("phone", "contract") are what that document lacks. Questions the intent classifier calls out of scope need
a little more. Tuned on knowledge/demo/eval/out-of-scope.jsonl half a against retrieval-a.jsonl and checked
on the held-out halves (b): see `benchmarks/out_of_scope.py` and docs/slots-and-scope.md.
"""

from __future__ import annotations

from assistant.config import RoutingSettings
from knowledge import Hit
from knowledge.lexical import coverage


def answering(question: str, hits: list[Hit], cfg: RoutingSettings, *, oos: bool = False) -> list[Hit]:
    """The hits that may answer `question`, best first (empty: fall back); `oos`: the classifier said so."""
    strong = cfg.oos_min_score if oos else cfg.answer_min_score
    covered = cfg.oos_covered_min_score if oos else cfg.covered_min_score
    return [
        h
        for h in hits
        if h.score >= strong
        or (
            h.score >= covered and coverage(question, f"{h.title}\n{h.heading}\n{h.text}") >= cfg.min_coverage
        )
    ]
