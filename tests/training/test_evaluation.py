"""`--set key=value` overrides arrive typed like the TrainConfig field they change."""

from __future__ import annotations

from training.config import TrainConfig
from training.evaluation import _parse_override


def test_overrides_take_the_type_of_the_field() -> None:
    cfg = TrainConfig()
    assert _parse_override(cfg.epochs, "8") == 8
    assert _parse_override(cfg.lr, "1e-4") == 1e-4
    assert _parse_override(cfg.knn_vote, "false") is False
    assert _parse_override(cfg.ood_method, "energy") == "energy"
    # Fields whose default is None: JSON decides, strings stay strings.
    assert _parse_override(cfg.min_oos_recall, "0.85") == 0.85
    assert _parse_override(cfg.freeze_layers, "0") == 0
    assert _parse_override(cfg.parallel_members, "true") is True
    assert _parse_override(cfg.min_oos_recall, "null") is None
