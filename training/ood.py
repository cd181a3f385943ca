"""Out-of-scope scores (max-softmax, energy, Mahalanobis, nearest neighbours) and threshold selection."""

from __future__ import annotations

import numpy as np
import torch

METHODS = ("msp", "energy", "mahalanobis", "knn")
KNN_K = 10  # neighbours averaged by the "knn" score (Sun et al. 2022 use the k-th; the mean is steadier)


def fit_mahalanobis(emb: np.ndarray, y: np.ndarray, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Class means and shared (tied, shrunk) precision of L2-normalised embeddings."""
    x = _normalise(emb)
    means = np.stack([x[y == c].mean(0) for c in classes])
    centred = x - means[np.searchsorted(classes, y)]
    cov = centred.T @ centred / max(len(x) - 1, 1)
    cov += np.eye(cov.shape[0]) * (1e-3 * np.trace(cov) / cov.shape[0] + 1e-6)
    return means.astype(np.float32), np.linalg.inv(cov).astype(np.float32)


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-9, None)


def scores(
    method: str,
    logits: torch.Tensor,
    emb: torch.Tensor,
    in_scope: torch.Tensor,
    means: torch.Tensor | None = None,
    precision: torch.Tensor | None = None,
    bank: torch.Tensor | None = None,
) -> torch.Tensor:
    """In-scope score per row (higher = more in scope) over the in-scope logit columns.

    "knn": mean cosine similarity to the KNN_K nearest in-scope training embeddings (`bank`, L2-normalised).
    """
    z = logits.float()[:, in_scope]
    if method == "msp":
        return torch.softmax(logits.float(), -1)[:, in_scope].max(-1).values
    if method == "energy":
        return torch.logsumexp(z, -1)
    if method == "mahalanobis":
        assert means is not None and precision is not None
        x = torch.nn.functional.normalize(emb.float(), dim=-1)
        xp = x @ precision
        mp = means @ precision
        md = (xp * x).sum(-1, keepdim=True) - 2 * xp @ means.T + (mp * means).sum(-1)[None, :]
        return -md.min(-1).values
    if method == "knn":
        if bank is None or len(bank) == 0:
            return torch.zeros(len(logits))
        x = torch.nn.functional.normalize(emb.float(), dim=-1)
        sims = x @ bank.float().T
        return sims.topk(min(KNN_K, sims.shape[1]), dim=-1).values.mean(-1)
    raise ValueError(f"unknown OOS method {method!r}")


def choose_threshold(
    in_scores: np.ndarray,
    in_correct: np.ndarray,
    oos_scores: np.ndarray,
    fallback_recall: float,
    min_oos_recall: float | None = None,
) -> tuple[float, dict[str, float | None]]:
    """Pick the threshold that maximises mean(in-scope accuracy, OOS recall) on validation, or, with
    `min_oos_recall`, the best in-scope accuracy among thresholds that catch that share of OOS queries.

    In-scope accuracy counts a rejected in-scope query as wrong. With no OOS examples, keep
    `fallback_recall` of in-scope validation queries above the threshold.
    """
    if len(oos_scores) == 0:
        thr = float(np.quantile(in_scores, 1 - fallback_recall)) if len(in_scores) else 0.0
        acc = float(((in_scores >= thr) & in_correct).mean()) if len(in_scores) else 0.0
        return thr, {"val_in_scope_accuracy": acc, "val_oos_recall": None, "objective": acc}
    cands = np.unique(np.concatenate([in_scores, oos_scores]))
    cands = np.concatenate([[cands[0] - 1e-6], (cands[:-1] + cands[1:]) / 2, [cands[-1] + 1e-6]])
    s_in = np.sort(in_scores)
    s_in_ok = np.sort(in_scores[in_correct]) if len(in_scores) else s_in
    s_oos = np.sort(oos_scores)
    n_in = max(len(in_scores), 1)
    acc = (len(s_in_ok) - np.searchsorted(s_in_ok, cands, side="left")) / n_in
    rec = np.searchsorted(s_oos, cands, side="left") / len(s_oos)
    obj = (acc + rec) / 2
    if min_oos_recall is not None and bool((rec >= min_oos_recall).any()):
        obj = np.where(rec >= min_oos_recall, acc, -1.0)
    best = int(np.argmax(obj))
    return float(cands[best]), {
        "val_in_scope_accuracy": float(acc[best]),
        "val_oos_recall": float(rec[best]),
        "objective": float(obj[best]),
    }
