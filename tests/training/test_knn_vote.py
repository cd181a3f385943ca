"""The kNN vote: neighbours decide where the head is unsure, and validation decides whether to use it."""

from __future__ import annotations

import numpy as np
import torch

from training.calibration import OOSDetector
from training.knn_vote import KnnVote, choose_vote, vote


def _bank() -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Three tight clusters on the first three axes of 8-d space, 20 rows each."""
    rng = np.random.default_rng(0)
    rows = np.concatenate([np.eye(8)[c] * 3 + 0.2 * rng.standard_normal((20, 8)) for c in range(3)])
    bank = torch.nn.functional.normalize(torch.from_numpy(rows).float(), dim=-1)
    return bank, torch.arange(3).repeat_interleave(20), rows


def test_vote_follows_the_nearest_cluster() -> None:
    bank, labels, _ = _bank()
    query = torch.tensor([[0.1, 2.9, 0.0, 0, 0, 0, 0, 0]])
    v = vote(query, bank, labels, 3, k=5, temperature=0.05)
    assert v.argmax(-1).item() == 1
    assert torch.allclose(v.sum(-1), torch.ones(1))


def test_validation_keeps_a_perfect_head_and_blends_in_a_helpful_vote() -> None:
    bank, labels, rows = _bank()
    emb = torch.from_numpy(rows[::4]).float()  # 15 queries that sit in their clusters
    gold = labels[::4].numpy()
    right = torch.nn.functional.one_hot(torch.from_numpy(gold), 3).float() * 5
    assert choose_vote(right, emb, gold, bank, labels).weight == 0.0

    wrong = right.clone()
    wrong[:5] = torch.tensor([0.0, 0.3, 0.0])  # the head is unsure and wrong on every class-0 query
    chosen = choose_vote(wrong, emb, gold, bank, labels)
    assert chosen.weight > 0
    assert chosen.val_accuracy == 1.0 and chosen.val_accuracy_head < 1.0

    # Out-of-scope validation rows (gold -1) do not count.
    gold_oos = gold.copy()
    gold_oos[:5] = -1
    assert choose_vote(wrong, emb, gold_oos, bank, labels).weight == 0.0


def test_vote_and_bank_labels_round_trip_through_the_model_folder(tmp_path) -> None:
    bank, labels, rows = _bank()
    knn = KnnVote(k=5, temperature=0.05, weight=0.4, val_accuracy=1.0, val_accuracy_head=0.9)
    det = OOSDetector(["a", "b", "c"], "knn", 0.5, bank=bank, bank_labels=labels, knn=knn)
    det.save(tmp_path)
    back = OOSDetector.load(tmp_path, ["a", "b", "c"])
    assert back.knn == knn
    logits = torch.tensor([[0.0, 0.2, 0.0]])
    emb = torch.from_numpy(rows[:1]).float()  # a class-0 training row
    assert torch.allclose(back.probs(logits, emb), det.probs(logits, emb), atol=1e-3)
    assert back.probs(logits, emb).argmax(-1).item() == 0  # the vote overrules the head's weak guess
