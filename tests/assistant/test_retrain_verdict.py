"""A retrain's verdict in plain words, and its time left."""

from __future__ import annotations

import pytest

from assistant.retrain_verdict import estimate_eta, failed_verdict, format_duration, verdict

JARGON = ("F1", "OOS", "held-out", "macro", "recall", "heldout")


def metrics(
    accuracy: float | None, previous: str | None = None, previous_accuracy: float | None = None
) -> dict:
    m: dict = {"heldout": {} if accuracy is None else {"accuracy": accuracy, "macro_f1": 0.5}}
    if previous:
        m["compared_with"] = {"version": previous, "accuracy": previous_accuracy, "macro_f1": 0.5}
    return m


@pytest.mark.parametrize(
    ("promoted", "reason", "m", "said"),
    [
        (
            True,
            "promote: candidate macro-F1 91.00 vs current 90.00 (tolerance 0.50 point)",
            metrics(0.913, "v0003", 0.901),
            "v0004 answers 1.2 % more test questions correctly than v0003 (91.3 % against 90.1 %): promoted.",
        ),
        (
            False,
            "keep current: candidate macro-F1 80.00 vs current 90.00 (tolerance 0.50 point)",
            metrics(0.893, "v0003", 0.901),
            "v0004 answers 0.8 % fewer test questions correctly than v0003 (89.3 % against 90.1 %): kept v0003.",
        ),
        (
            True,
            "promote: candidate macro-F1 90.00 vs current 90.00 (tolerance 0.50 point)",
            metrics(0.9, "v0003", 0.9),
            "v0004 answers as many test questions correctly as v0003 (90.0 %): promoted.",
        ),
        (
            True,
            "no current model to compare against (candidate macro-F1 88.00)",
            metrics(0.88),
            "v0004 answers 88.0 % of the test questions correctly: promoted.",
        ),
        (
            True,
            "promoted on request (keep current: candidate macro-F1 80.00 vs current 90.00 (tolerance 0.50 point))",
            metrics(0.85, "v0003", 0.9),
            "v0004 answers 5.0 % fewer test questions correctly than v0003 (85.0 % against 90.0 %): "
            "promoted on request.",
        ),
        (
            False,
            "keep current: candidate macro-F1 85.00 vs current 90.00 (tolerance 0.50 point)",
            metrics(0.92, "v0003", 0.9),
            "v0004 answers 2.0 % more test questions correctly than v0003 (92.0 % against 90.0 %): kept v0003 "
            "(it does worse on some topics).",
        ),
        (
            True,
            "promote: candidate macro-F1 89.80 vs current 90.00 (tolerance 0.50 point)",
            metrics(0.897, "v0003", 0.9),
            "v0004 answers 0.3 % fewer test questions correctly than v0003 (89.7 % against 90.0 %): promoted "
            "(within the margin).",
        ),
        (
            True,
            "no held-out data",
            metrics(None),
            "v0004 could not be tested (too few examples to set some aside as test questions): promoted.",
        ),
    ],
)
def test_the_verdict_says_how_many_more_questions_and_what_became_of_it(
    promoted: bool, reason: str, m: dict, said: str
) -> None:
    line = verdict("v0004", promoted, reason, m)
    assert line == said
    assert not any(word in line for word in JARGON)


def test_a_failed_retrain_says_the_model_serving_keeps_answering() -> None:
    assert failed_verdict("no training data", "v0003") == (
        "The retrain failed: no training data; v0003 keeps answering."
    )
    assert failed_verdict("", None) == "The retrain failed: unknown error; the current model keeps answering."


def test_time_left_follows_the_pace_since_training_began() -> None:
    # 30 % of the run done in 60 s since training began at 10 %: 20 % per minute, 70 % left -> 210 s.
    assert estimate_eta(since=100.0, progress_then=0.1, progress_now=0.3, now=160.0) == pytest.approx(210.0)
    assert estimate_eta(since=100.0, progress_then=0.1, progress_now=0.1, now=160.0) is None  # nothing moved
    assert estimate_eta(since=100.0, progress_then=0.1, progress_now=0.5, now=100.2) is None  # too soon
    assert estimate_eta(since=100.0, progress_then=0.1, progress_now=1.0, now=160.0) == 0.0


def test_time_left_in_words() -> None:
    assert format_duration(None) == ""
    assert format_duration(12) == "under a minute left"
    assert format_duration(170) == "about 3 min left"
    assert format_duration(2 * 3600) == "about 2.0 h left"
