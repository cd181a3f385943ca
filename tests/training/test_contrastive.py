"""Supervised contrastive loss, same-label pair batches, and a training run that uses them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch

from training import IntentClassifier, TrainConfig, train_intent_model
from training.contrastive import PairBatchSampler, supcon_loss


def test_supcon_is_lower_when_labels_cluster() -> None:
    labels = torch.tensor([0, 0, 1, 1])
    clustered = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    mixed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.9]])
    assert supcon_loss(clustered, labels) < supcon_loss(mixed, labels)


def test_supcon_ignores_rows_without_partner_and_is_zero_without_pairs() -> None:
    emb = torch.randn(3, 8, requires_grad=True)
    loss = supcon_loss(emb, torch.tensor([0, 1, 2]))
    assert float(loss.detach()) == 0.0
    loss.backward()  # still part of the graph: a batch without pairs must not break backward
    with_single = supcon_loss(torch.cat([emb, emb[:1]]), torch.tensor([0, 1, 2, 0]))
    assert torch.isfinite(with_single)


def test_pair_batches_hold_same_label_partners() -> None:
    labels = [i % 5 for i in range(100)] + [9]  # label 9 has a single example
    sampler = PairBatchSampler(labels, batch_size=8, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 101 // 8
    for batch in batches:
        anchors, partners = batch[:4], batch[4:]
        with_partner = [a for a in anchors if labels[a] != 9]
        assert [labels[p] for p in partners] == [labels[a] for a in with_partner]
        assert all(p != a for a, p in zip(with_partner, partners, strict=True))
    # Two epochs reshuffle: different anchor orders.
    assert [b[:4] for b in sampler] != [b[:4] for b in batches]


def test_training_with_contrastive_weight_learns(tmp_path: Path) -> None:
    from tests.training.conftest import make_dataset

    train_x, train_y, test_x, test_y = make_dataset(seed=2)
    out = tmp_path / "supcon"
    res = train_intent_model(
        train_x,
        train_y,
        out,
        config=TrainConfig.fast(contrastive_weight=0.5),
        progress=False,
    )
    assert res.config["contrastive_weight"] == 0.5
    preds = IntentClassifier.load(out).predict(test_x)
    scored = [(p.name, y) for p, y in zip(preds, test_y, strict=True) if y != "out_of_scope"]
    right = Counter(name == y for name, y in scored)[True]
    assert right / len(scored) >= 0.8


def test_out_of_scope_rows_are_never_positives() -> None:
    from training.member_training import _contrastive_labels

    labels = torch.tensor([0, 2, 2, 1, 2])  # 2 = out_of_scope
    out = _contrastive_labels(labels, oos_index=2)
    assert out[0] == 0 and out[3] == 1
    assert len({int(v) for v in out[[1, 2, 4]]}) == 3 and all(int(v) < 0 for v in out[[1, 2, 4]])
    assert torch.equal(_contrastive_labels(labels, oos_index=-1), labels)
