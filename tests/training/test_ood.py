"""Out-of-scope scores on hand-made embeddings: each ranks a point near the training data above one far away."""

from __future__ import annotations

import numpy as np
import torch

from training import ood
from training.calibration import OOSDetector


def _setup() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:3] * 3.0
    train = np.concatenate([c + 0.3 * rng.standard_normal((40, 8)) for c in centres]).astype(np.float32)
    y = np.repeat(np.arange(3), 40)
    means, precision = ood.fit_mahalanobis(train, y, [0, 1, 2])
    bank = torch.nn.functional.normalize(torch.from_numpy(train), dim=-1)
    near = torch.from_numpy(centres[1:2] + 0.1).float()
    far = torch.zeros(1, 8)
    far[0, 6] = 3.0  # a direction no class uses
    emb = torch.cat([near, far])
    return emb, torch.from_numpy(means), torch.from_numpy(precision), bank


def test_every_method_scores_the_near_point_higher() -> None:
    emb, means, precision, bank = _setup()
    logits = torch.tensor([[0.0, 8.0, 0.0], [0.5, 0.4, 0.6]])
    in_scope = torch.arange(3)
    for method in ood.METHODS:
        s = ood.scores(method, logits, emb, in_scope, means, precision, bank)
        assert s[0] > s[1], method


def test_knn_bank_round_trips_through_the_model_folder(tmp_path) -> None:
    emb, means, precision, bank = _setup()
    det = OOSDetector(["a", "b", "c"], "knn", 0.5, means, precision, {}, bank)
    det.save(tmp_path)
    back = OOSDetector.load(tmp_path, ["a", "b", "c"])
    logits = torch.zeros(2, 3)
    assert torch.allclose(back.score(logits, emb), det.score(logits, emb), atol=1e-2)
    flags, _ = back.detect(logits, emb)
    assert flags.tolist() == [False, True]


def test_a_minimum_oos_recall_trades_recall_for_in_scope_accuracy() -> None:
    in_scores = np.arange(1.0, 11.0)  # ten in-scope queries, all classified right
    oos_scores = np.array([0.5, 1.5, 2.5, 3.5])
    ok = np.ones(10, dtype=bool)
    thr, info = ood.choose_threshold(in_scores, ok, oos_scores, 0.97)
    assert (info["val_oos_recall"], info["val_in_scope_accuracy"]) == (1.0, 0.7)  # best mean: 0.85
    thr, info = ood.choose_threshold(in_scores, ok, oos_scores, 0.97, min_oos_recall=0.5)
    assert (info["val_oos_recall"], info["val_in_scope_accuracy"]) == (0.5, 0.9)
    assert 1.5 < thr <= 2.0
    # A recall no threshold reaches falls back to the mean objective rather than failing.
    _, info = ood.choose_threshold(in_scores, ok, np.array([0.5]), 0.97, min_oos_recall=1.1)
    assert info["val_oos_recall"] == 1.0
