"""Fitting the out-of-scope detector of a trained net: in-scope statistics, then the method, threshold and kNN
vote chosen on val."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from training import ood
from training.calibration import OOSDetector
from training.inference import forward_texts
from training.knn_vote import choose_vote
from training.model import IntentEnsemble, IntentNet
from training.train_config import OUT_OF_SCOPE, TrainConfig


def fit_statistics(
    net: IntentNet | IntentEnsemble,
    tokenizer: Any,
    labels: list[str],
    cfg: TrainConfig,
    device: torch.device,
    fit_texts: list[str],
    fit_labels: list[str],
) -> OOSDetector:
    """A detector holding what the in-scope training rows give: Mahalanobis means + precision, kNN bank."""
    idx = {lab: i for i, lab in enumerate(labels)}
    ins = [(t, idx[lab]) for t, lab in zip(fit_texts, fit_labels, strict=True) if lab != OUT_OF_SCOPE]
    _, emb_tr = forward_texts(
        net, tokenizer, [t for t, _ in ins], device, max_length=cfg.max_length, batch_size=cfg.eval_batch_size
    )
    y_tr = np.array([c for _, c in ins])
    classes = sorted(set(y_tr.tolist()))
    means, prec = ood.fit_mahalanobis(emb_tr.numpy(), y_tr, classes)
    # Rows of `means` must align with in-scope label columns; classes absent from training get a far mean.
    in_scope = [i for i, lab in enumerate(labels) if lab != OUT_OF_SCOPE]
    full = np.full((len(in_scope), means.shape[1]), 1e3, dtype=np.float32)
    for row, c in enumerate(classes):
        full[in_scope.index(c)] = means[row]
    bank = torch.nn.functional.normalize(emb_tr.float(), dim=-1).half().float()  # as stored
    return OOSDetector(
        labels,
        means=torch.from_numpy(full),
        precision=torch.from_numpy(prec),
        bank=bank,
        bank_labels=torch.from_numpy(y_tr).long(),
    )


def fit_detector(
    det: OOSDetector,
    cfg: TrainConfig,
    val_outputs: tuple[torch.Tensor, torch.Tensor],
    val_labels: list[str],
) -> OOSDetector:
    """Choose the kNN vote, the OOS method and its threshold on val for `det` (from `fit_statistics`).

    `val_outputs` = the net's (logits, pooled embeddings) on the val texts, which the caller scores too.
    """
    labels = det.labels
    idx = {lab: i for i, lab in enumerate(labels)}
    logits, emb = val_outputs
    is_oos_gold = np.array([lab == OUT_OF_SCOPE for lab in val_labels], dtype=bool)
    if cfg.knn_vote:
        gold = np.array([idx.get(lab, -1) if lab != OUT_OF_SCOPE else -1 for lab in val_labels])
        det.knn = choose_vote(logits, emb, gold, det.bank, det.bank_labels)
    argmax_oos = np.array([labels[i] == OUT_OF_SCOPE for i in logits.argmax(-1).tolist()], dtype=bool)
    pred_in = np.array(det.top_in_scope(logits, emb))
    correct = (pred_in == np.array(val_labels)) & ~argmax_oos & ~is_oos_gold
    results: dict[str, dict[str, float]] = {}
    for method in ood.METHODS:
        s = det.score(logits, emb, method).numpy()
        # A query the head already sends to the OOS class is rejected whatever the threshold.
        s = np.where(argmax_oos, -np.inf, s)
        in_s, in_ok = s[~is_oos_gold], correct[~is_oos_gold]
        finite_oos = s[is_oos_gold]
        thr, info = ood.choose_threshold(
            in_s, in_ok, finite_oos, cfg.fallback_in_scope_recall, cfg.min_oos_recall
        )
        if not math.isfinite(thr):
            thr = float(np.min(in_s[np.isfinite(in_s)])) - 1e-6 if np.isfinite(in_s).any() else 0.0
        results[method] = {"threshold": thr, **info}
    has_oos = bool(is_oos_gold.any())
    method = cfg.ood_method
    if method == "auto":
        method = max(ood.METHODS, key=lambda m: results[m]["objective"]) if has_oos else "msp"
    det.method, det.threshold = method, results[method]["threshold"]
    det.info = {"val_oos_examples": int(is_oos_gold.sum()), "per_method": results}
    return det
