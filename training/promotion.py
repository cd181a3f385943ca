"""When a freshly trained intent model may replace the current one."""

from __future__ import annotations

from typing import Any

PROMOTION_TOLERANCE = 0.005  # 0.5 macro-F1 point, as a fraction


def should_promote(
    candidate_metrics: dict[str, Any],
    current_metrics: dict[str, Any] | None,
    best_metrics: dict[str, Any] | None = None,
) -> tuple[bool, str]:
    """Promote only if the candidate's held-out macro-F1 is within 0.5 point of the current model's and of the
    best model ever promoted (`best_metrics`, scored on the same held-out set), so that a run of retrains each
    "within tolerance" of the last cannot slide the score down step by step.

    Each dict needs `macro_f1` (fraction in [0, 1]); with no current model the candidate is promoted. If two carry
    `heldout_id` and they differ, the comparison is refused (not the same held-out set).
    """
    cand = candidate_metrics.get("macro_f1")
    if cand is None:
        return False, "candidate has no macro_f1"
    if not current_metrics or current_metrics.get("macro_f1") is None:
        return True, f"no current model to compare against (candidate macro-F1 {100 * cand:.2f})"
    bars = [("current", current_metrics)]
    if best_metrics and best_metrics.get("macro_f1") is not None:
        bars.append((f"best promoted {best_metrics.get('version', '')}".strip(), best_metrics))
    for _, metrics in bars:
        a, b = candidate_metrics.get("heldout_id"), metrics.get("heldout_id")
        if a is not None and b is not None and a != b:
            return False, f"held-out sets differ ({a} vs {b}); re-score both on the same set"
    name, bar = max(bars, key=lambda nb: float(nb[1]["macro_f1"]))
    ref = float(bar["macro_f1"])
    ok = float(cand) >= ref - PROMOTION_TOLERANCE
    verdict = "promote" if ok else "keep current"
    return (
        ok,
        f"{verdict}: candidate macro-F1 {100 * cand:.2f} vs {name} {100 * ref:.2f} (tolerance 0.50 point)",
    )
