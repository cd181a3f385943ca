"""Supervised contrastive loss and the same-class pair batches it needs."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator

import torch
from torch.nn import functional as F
from torch.utils.data import Sampler


def supcon_loss(emb: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Khosla et al.'s supervised contrastive loss on L2-normalised embeddings of one batch.

    Each row is pulled towards the other rows of its label and pushed from the rest; rows without a
    same-label partner in the batch are left out. Returns 0 when no row has a partner.
    """
    z = F.normalize(emb.float(), dim=-1)
    sim = z @ z.T / temperature
    eye = torch.eye(len(labels), dtype=torch.bool, device=emb.device)
    sim = sim.masked_fill(eye, float("-inf"))
    pos = (labels[:, None] == labels[None, :]) & ~eye
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    n_pos = pos.sum(1)
    has = n_pos > 0
    if not bool(has.any()):
        return emb.sum() * 0.0
    per_row = log_prob.masked_fill(~pos, 0.0).sum(1) / n_pos.clamp(min=1)
    return -per_row[has].mean()


class PairBatchSampler(Sampler[list[int]]):
    """Batches of `batch_size // 2` random anchors, each with another example of its label.

    Random batches over many intents rarely hold two examples of one intent, which leaves the
    contrastive loss nothing to pull together. An epoch has as many batches as plain batching would,
    so it costs the same; every example is an anchor once every two epochs on average.
    """

    def __init__(self, labels: list[int], batch_size: int, seed: int) -> None:
        self.labels = list(labels)
        self.half = max(1, batch_size // 2)
        self.n_batches = max(1, len(self.labels) // (2 * self.half))
        self.rng = random.Random(seed)
        self.by_label: dict[int, list[int]] = defaultdict(list)
        for i, lab in enumerate(self.labels):
            self.by_label[lab].append(i)

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[list[int]]:
        order = list(range(len(self.labels)))
        self.rng.shuffle(order)
        for b in range(self.n_batches):
            anchors = order[b * self.half : (b + 1) * self.half]
            batch = list(anchors)
            for i in anchors:
                same = self.by_label[self.labels[i]]
                if len(same) > 1:
                    j = i
                    while j == i:
                        j = self.rng.choice(same)
                    batch.append(j)
            yield batch
