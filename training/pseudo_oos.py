"""Pseudo out-of-scope examples: mixtures of two intents' embeddings, taught as out-of-scope."""

from __future__ import annotations

import torch


def mixed_outliers(
    emb: torch.Tensor, labels: torch.Tensor, oos_index: int, low: float = 0.3, high: float = 0.7
) -> torch.Tensor | None:
    """Convex mixtures of each row with a random row of another intent (Zhan et al., 2021).

    A point between two intents' clusters belongs to neither, so teaching the head to call it out of
    scope puts decision boundaries around the clusters instead of half-way between them; the handful of
    real out-of-scope rows (100 in CLINC150) cover little of that space. Rows already out of scope are not
    mixed. Returns None when the batch has no pair of different intents.
    """
    perm = torch.randperm(len(labels), device=labels.device)
    other = labels[perm]
    keep = (labels != other) & (labels != oos_index) & (other != oos_index)
    if not bool(keep.any()):
        return None
    lam = torch.empty(int(keep.sum()), 1, device=emb.device).uniform_(low, high).to(emb.dtype)
    return lam * emb[keep] + (1 - lam) * emb[perm][keep]
