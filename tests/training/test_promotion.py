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
