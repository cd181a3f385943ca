from __future__ import annotations

from training import should_promote


def test_should_promote_tolerance() -> None:
    assert should_promote({"macro_f1": 0.90}, None)[0]
    assert should_promote({"macro_f1": 0.90}, {"macro_f1": 0.904})[0]
    assert should_promote({"macro_f1": 0.91}, {"macro_f1": 0.90})[0]
    ok, reason = should_promote({"macro_f1": 0.89}, {"macro_f1": 0.90})
    assert not ok and "keep current" in reason
    assert not should_promote({}, {"macro_f1": 0.5})[0]
    assert not should_promote({"macro_f1": 0.9, "heldout_id": "a"}, {"macro_f1": 0.5, "heldout_id": "b"})[0]


def test_retrains_within_tolerance_of_each_other_cannot_slide_below_the_best() -> None:
    """The slide seen in the field: 91.73 -> 91.40 -> 91.16, each within 0.5 point of the one before."""
    best = {"macro_f1": 0.9173, "version": "v0001"}
    assert should_promote({"macro_f1": 0.9140}, best)[0]
    ok, reason = should_promote({"macro_f1": 0.9116}, {"macro_f1": 0.9140}, best)
    assert not ok
    assert "best promoted v0001" in reason and "91.73" in reason
    # A candidate near the best passes even when the current model is worse than the best.
    assert should_promote({"macro_f1": 0.9150}, {"macro_f1": 0.9140}, best)[0]
    # The best must be scored on the same held-out set as the candidate.
    other_set = {"macro_f1": 0.5, "heldout_id": "b", "version": "v0001"}
    assert not should_promote(
        {"macro_f1": 0.95, "heldout_id": "a"}, {"macro_f1": 0.9, "heldout_id": "a"}, other_set
    )[0]
