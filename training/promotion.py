"""When a freshly trained intent model may replace the current one."""

from __future__ import annotations

from typing import Any

PROMOTION_TOLERANCE = 0.005  # 0.5 macro-F1 point, as a fraction


def should_promote(
    candidate_metrics: dict[str, Any], current_metrics: dict[str, Any] | None
) -> tuple[bool, str]:
    """Promote only if candidate held-out macro-F1 >= current macro-F1 - 0.5 point on the same held-out set.

    Both dicts need `macro_f1` (fraction in [0, 1]); with no current model the candidate is promoted.
    If both carry `heldout_id` and they differ, the comparison is refused (not the same held-out set).
    """
    cand = candidate_metrics.get("macro_f1")
    if cand is None:
        return False, "candidate has no macro_f1"
    if not current_metrics or current_metrics.get("macro_f1") is None:
        return True, f"no current model to compare against (candidate macro-F1 {100 * cand:.2f})"
    a, b = candidate_metrics.get("heldout_id"), current_metrics.get("heldout_id")
    if a is not None and b is not None and a != b:
        return False, f"held-out sets differ ({a} vs {b}); re-score both on the same set"
    cur = float(current_metrics["macro_f1"])
    ok = float(cand) >= cur - PROMOTION_TOLERANCE
    verdict = "promote" if ok else "keep current"
    return (
        ok,
        f"{verdict}: candidate macro-F1 {100 * cand:.2f} vs current {100 * cur:.2f} (tolerance 0.50 point)",
    )
