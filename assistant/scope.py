"""Out of scope stays out: which retrieved passages may answer a question routed to retrieval.

A passage answers when it matches strongly, or fairly and it contains most of the question's content words
(`knowledge.lexical.coverage`): a question about something the knowledge base does not cover ("do you sell
phone contracts?") often lands on a loosely related document with a middling score, and its key words
("phone", "contract") are what that document lacks. Questions the intent classifier calls out of scope need
a little more. Tuned on knowledge/demo/eval/out-of-scope.jsonl half a against retrieval-a.jsonl and checked
on the held-out halves (b): see `benchmarks/out_of_scope.py` and docs/slots-and-scope.md.
"""

from __future__ import annotations

from pathlib import Path

from assistant.config import RoutingSettings, Settings
from assistant.learning import base_data_dir
from knowledge import Hit, Template
from knowledge.lexical import coverage
from training.data import load_intent_csv


def answering(
    question: str, hits: list[Hit], cfg: RoutingSettings, *, oos: bool = False, nearest: str | None = None
) -> list[Hit]:
    """The hits that may answer `question`, best first (empty: fall back); `oos`: the classifier said so;
    `nearest`: the in-scope intent the classifier ranked first."""
    strong = cfg.oos_min_score if oos else cfg.answer_min_score
    covered = cfg.oos_covered_min_score if oos else cfg.covered_min_score
    return [
        h
        for h in hits
        if h.score >= strong
        or (
            h.score >= covered
            and (
                coverage(question, f"{h.title}\n{h.heading}\n{h.text}") >= cfg.min_coverage
                # Two signals agree: retrieval found the template of the intent the classifier ranked first.
                or (nearest is not None and h.kind == "template" and h.intent == nearest)
            )
        )
    ]


# -- template answers ---------------------------------------------------------------------------------------
# A confident intent is no proof that its template answers: the classifier picks the nearest intent it knows,
# so "can you help me with my tax return?" lands on the sales-tax invoice template and "how do I reset my
# router's wifi password?" on the account password one. What such questions have in common is a key word
# ("tax return", "router") that none of the intent's own training examples, nor its template, ever uses.
_examples: dict[tuple[tuple[str, float], ...], dict[str, str]] = {}


def intent_examples(files: list[Path]) -> dict[str, str]:
    """The training examples of each intent, one text per intent (lower case); read once per set of files."""
    key = tuple((str(f), f.stat().st_mtime) for f in files if f.exists())
    if key not in _examples:
        texts, labels = load_intent_csv(list(files)) if key else ([], [])
        joined: dict[str, list[str]] = {}
        for text, label in zip(texts, labels, strict=True):
            joined.setdefault(label, []).append(text)
        _examples.clear()  # one model in service: keep only its data
        _examples[key] = {label: "\n".join(rows).lower() for label, rows in joined.items()}
    return _examples[key]


def template_fits(question: str, template: Template | Hit, settings: Settings) -> tuple[bool, float]:
    """Whether `template` (or a retrieved template) may answer `question`: most of the question's content words
    (CJK characters, English words) occur in its intent's stored training examples or in the template itself.
    Returns the verdict and the coverage; a home without stored training data trusts the classifier alone."""
    # A read-only listing: repairing an interrupted data swap is the retrain's job, not a customer turn's.
    examples = intent_examples(sorted(base_data_dir(settings).glob("*.csv"))).get(template.intent or "", "")
    if not examples:
        return True, 1.0
    answer = template.answer if isinstance(template, Template) else template.text
    covered = coverage(question, f"{examples}\n{template.title}\n{answer}".lower())
    return covered >= settings.routing.template_min_coverage, covered
