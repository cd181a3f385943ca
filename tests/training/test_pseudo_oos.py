"""Pseudo out-of-scope mixtures."""

from __future__ import annotations

from pathlib import Path

import torch

from training import TrainConfig, train_intent_model
from training.pseudo_oos import mixed_outliers


def test_mixtures_lie_between_two_different_intents() -> None:
    torch.manual_seed(0)
    emb = torch.eye(6)  # one axis per row: a mixture's weights show which rows it came from
    labels = torch.tensor([0, 0, 1, 1, 2, 9])  # 9 = out_of_scope
    mixed = mixed_outliers(emb, labels, oos_index=9)
    assert mixed is not None and len(mixed) >= 1
    for row in mixed:
        used = torch.nonzero(row > 0).flatten().tolist()
        assert len(used) == 2 and 5 not in used  # two rows, never the out-of-scope one
        assert labels[used[0]] != labels[used[1]]
        assert torch.isclose(row.sum(), torch.tensor(1.0)) and 0.3 <= float(row.max()) <= 0.7


def test_no_mixture_without_two_intents() -> None:
    assert mixed_outliers(torch.randn(3, 4), torch.tensor([1, 1, 9]), oos_index=9) is None


def test_training_with_pseudo_outliers_runs_and_keeps_intents(tmp_path: Path) -> None:
    from tests.training.conftest import make_dataset

    train_x, train_y, test_x, test_y = make_dataset(seed=4)
    out = tmp_path / "pseudo"
    res = train_intent_model(
        train_x, train_y, out, config=TrainConfig.fast(pseudo_oos_weight=0.5), progress=False
    )
    assert res.config["pseudo_oos_weight"] == 0.5
    assert res.metrics["val_in_scope_accuracy"] >= 0.7
