"""TrainConfig refuses values that would fail deep inside a training run."""

from __future__ import annotations

import pytest

from training.train_config import TrainConfig


def test_defaults_and_the_fast_preset_are_valid() -> None:
    assert TrainConfig().epochs >= 1
    assert TrainConfig.fast(val_fraction=0.0, max_steps=1).max_steps == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("epochs", 0),
        ("batch_size", 0),
        ("lr", 0.0),
        ("val_fraction", 1.0),
        ("patience", 0),
        ("ood_method", "vibes"),
        ("min_oos_recall", 0.0),
        ("max_steps", 0),
        ("members", 0),
        ("freeze_layers", -1),
        ("label_smoothing", 1.0),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ValueError) as err:
        TrainConfig(epochs=0, members=0)
    assert "epochs" in str(err.value) and "members" in str(err.value)
