"""A retrain's outcome in one plain line ("v0004 answers 1.2 % more test questions correctly than v0003:
promoted"), and how long a running one has left. No ML jargon: the numbers are held-out accuracy, said as
"test questions answered correctly"; the metrics themselves stay one click away in the console."""

from __future__ import annotations

import time
from typing import Any

SAME = 0.05  # points: a smaller difference in accuracy is said as "as many"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def verdict(version: str, promoted: bool, reason: str, metrics: dict[str, Any]) -> str:
    """The one-line verdict of a trained version: how many test questions it answers correctly, against the
    model serving when it was trained (`metrics["compared_with"]`, scored on the same questions), and what
    became of it. `reason` is the promotion rule's (training.should_promote)."""
    accuracy = (metrics.get("heldout") or {}).get("accuracy")
    before = metrics.get("compared_with") or {}
    previous, previous_accuracy = before.get("version"), before.get("accuracy")
    on_request = reason.startswith("promoted on request")
    if promoted:
        fate = "promoted on request" if on_request else "promoted"
    else:
        fate = f"kept {previous}" if previous else "not promoted"
    if accuracy is None:
        return (
            f"{version} could not be tested (too few examples to set some aside as test questions): {fate}."
        )
    if previous is None or previous_accuracy is None:  # the first model (or one trained before comparisons)
        return f"{version} answers {_pct(accuracy)} of the test questions correctly: {fate}."
    diff = 100 * (float(accuracy) - float(previous_accuracy))
    if abs(diff) < SAME:
        head = f"{version} answers as many test questions correctly as {previous} ({_pct(accuracy)})"
    else:
        more = "more" if diff > 0 else "fewer"
        head = (
            f"{version} answers {abs(diff):.1f} % {more} test questions correctly than {previous} "
            f"({_pct(accuracy)} against {_pct(previous_accuracy)})"
        )
    why = ""
    if not promoted and diff > -SAME:
        # Accuracy alone did not decide: the rule weighs every topic alike (macro-F1), or a better model once was.
        why = (
            " (it does worse on some topics)"
            if "best promoted" not in reason
            else " (an earlier model did better)"
        )
    elif promoted and diff <= -SAME and not on_request:
        why = " (within the margin)"
    return f"{head}: {fate}{why}."


def failed_verdict(error: str, serving: str | None) -> str:
    """The line for a retrain that failed: the error, and that nothing changed for customers."""
    keeps = f"{serving} keeps answering" if serving else "the current model keeps answering"
    return f"The retrain failed: {error.strip() or 'unknown error'}; {keeps}."


def estimate_eta(
    since: float, progress_then: float, progress_now: float, now: float | None = None
) -> float | None:
    """Seconds left, from the pace since `since` (when progress was `progress_then`) to `progress_now`; None
    while too little has moved to tell."""
    now = time.time() if now is None else now
    moved, elapsed = progress_now - progress_then, now - since
    if moved < 0.005 or elapsed < 1.0:
        return None
    return max(0.0, elapsed * (1.0 - progress_now) / moved)


def format_duration(seconds: float | None) -> str:
    """ "about 3 min left", "under a minute left", "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "under a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {seconds / 3600:.1f} h left"
