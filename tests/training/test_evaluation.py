"""`--set key=value` overrides arrive typed like the TrainConfig field they change; bad ones are refused."""

from __future__ import annotations

import pytest

from training.evaluation import _parse_override, config_from_overrides
from training.train_config import TrainConfig


def test_overrides_take_the_type_of_the_field() -> None:
    cfg = TrainConfig()
    assert _parse_override(cfg.epochs, "8") == 8
    assert _parse_override(cfg.lr, "1e-4") == 1e-4
    assert _parse_override(cfg.knn_vote, "false") is False
    assert _parse_override(cfg.knn_vote, "On") is True
    assert _parse_override(cfg.ood_method, "energy") == "energy"
    # Fields whose default is None: JSON decides.
    assert _parse_override(cfg.min_oos_recall, "0.85") == 0.85
    assert _parse_override(cfg.freeze_layers, "0") == 0
    assert _parse_override(cfg.parallel_members, "true") is True
    assert _parse_override(cfg.min_oos_recall, "null") is None


def test_config_from_overrides_changes_only_what_it_names() -> None:
    cfg = config_from_overrides(["epochs=2", " refit = true", "min_oos_recall=0.9"])
    assert (cfg.epochs, cfg.refit, cfg.min_oos_recall) == (2, True, 0.9)
    assert cfg.lr == TrainConfig().lr
    assert config_from_overrides([], TrainConfig.fast()) == TrainConfig.fast()


@pytest.mark.parametrize(
    "pair",
    ["epoch=2", "epochs", "epochs=two", "knn_vote=maybe", "min_oos_recall=high", "members=0", "dropout=1.5"],
)
def test_bad_overrides_raise_value_errors_that_name_them(pair: str) -> None:
    with pytest.raises(ValueError) as err:
        config_from_overrides([pair])
    assert pair.split("=")[0].strip() in str(err.value)
