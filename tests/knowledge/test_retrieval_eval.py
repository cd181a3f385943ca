"""Retrieval evaluation: StackFAQ's threads become documents, their paraphrases the questions."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge import Embedder, KnowledgeBase
from knowledge.retrieval_eval import MODES, evaluate_stackfaq

THREADS = [
    (
        "How do I reset my router?",
        "Hold the reset button for ten seconds.",
        ["router reset steps", "restart my modem"],
    ),
    ("Why is my laptop battery draining?", "Lower the screen brightness.", ["battery dies fast on notebook"]),
    ("How can I bake sourdough bread?", "Feed the starter the day before.", ["sourdough baking recipe", "*"]),
]


def test_stackfaq_is_scored_in_every_mode(tmp_path: Path, minilm: Embedder) -> None:
    data = {"root": {"qapair": [{"question": q, "answer": [a], "rephr": r} for q, a, r in THREADS]}}
    path = tmp_path / "stackExchange-FAQ.json"
    path.write_text(json.dumps(data))

    def kb_factory(folder: Path) -> KnowledgeBase:
        return KnowledgeBase(folder, embedder=minilm, multilingual=False)

    out = evaluate_stackfaq(path, kb_factory, modes=MODES)
    assert set(out) == set(MODES)
    for metrics in out.values():
        assert metrics["documents"] == 3 and metrics["errors"] == 0
        assert metrics["mrr_at_10"] > 0.5 and metrics["n"] == 4, metrics
