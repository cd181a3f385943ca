"""The trainer reports its progress step by step (the retrain job's progress bar and time left read it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.conftest import make_dataset
from training import TrainConfig, train_intent_model

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("refit", [False, True])
def test_progress_moves_with_every_step_and_ends_at_one(tmp_path: Path, refit: bool) -> None:
    train_x, train_y, _, _ = make_dataset(seed=0)
    heard: list[float] = []
    cfg = TrainConfig.fast(epochs=2, refit=refit)
    result = train_intent_model(
        train_x, train_y, tmp_path / "m", config=cfg, progress=False, on_progress=heard.append
    )
    steps = result.metrics["steps"] + (result.metrics["refit"]["steps"] if refit else 0)
    assert heard == sorted(heard) and heard[-1] == 1.0 and 0.0 < heard[0] < 0.1
    assert len(set(heard)) >= min(steps, 10)  # it moves during training, not only between stages
    during = [f for f in heard if f <= (0.45 if refit else 0.8)]
    assert len(during) >= result.metrics["steps"]
