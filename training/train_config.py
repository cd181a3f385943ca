"""Training configuration and result records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from training.ood import METHODS

OUT_OF_SCOPE = "out_of_scope"


@dataclass
class TrainConfig:
    """Hyper-parameters of intent fine-tuning; defaults suit a few thousand short queries."""

    epochs: int = 6
    batch_size: int = 32
    lr: float = 6e-5  # encoder learning rate
    head_lr: float = 2e-3  # classifier-head learning rate (freshly initialised, so larger)
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    label_smoothing: float = 0.1
    dropout: float = 0.1
    max_length: int = 64
    seed: int = 0
    val_fraction: float = 0.1
    patience: int = 2  # epochs without val improvement before stopping
    class_weighting: bool = True  # inverse-sqrt-frequency loss weights
    oos_as_class: bool = True  # train out_of_scope examples as their own class
    ood_method: str = "auto"  # "auto" | "msp" | "energy" | "mahalanobis" | "knn"
    fallback_in_scope_recall: float = 0.97  # threshold quantile when val has no OOS examples
    # Operating point on val OOS examples: None = best mean(in-scope accuracy, OOS recall); a share such as
    # 0.85 = best in-scope accuracy among thresholds that reject at least that share of OOS queries.
    min_oos_recall: float | None = None
    eval_batch_size: int = 128
    max_steps: int | None = None  # hard cap on optimizer steps (tests)
    # Fine-tune this many encoders from seeds seed, seed+1, ... on the same split and average their logits
    # (an ensemble: more accuracy for `members` times the training and inference cost).
    members: int = 1
    parallel_members: bool | None = None  # train members in parallel processes; None = auto (on CUDA)
    multilingual_head: bool = False  # blend in a head on multilingual-e5 embeddings (bilingual data)
    # Freeze embeddings + this many lower encoder layers. None = auto: 0 on CUDA, 3 on CPU (about half
    # the backward cost, so ~2,500 short queries train in minutes on 2 cores).
    freeze_layers: int | None = None
    # Add this weight x a supervised contrastive loss on the pooled embeddings (batches of same-intent
    # pairs); 0 = plain cross-entropy. Meant to tighten intent clusters for the distance-based OOS scores.
    contrastive_weight: float = 0.0
    contrastive_temperature: float = 0.1
    # With out_of_scope rows in the data: add this weight x cross-entropy that sends mixtures of two
    # intents' embeddings to out_of_scope (pseudo outliers; training/pseudo_oos.py). 0 = off.
    pseudo_oos_weight: float = 0.0
    # Blend a vote of the nearest training rows (fine-tuned embeddings) into the head's probabilities, with
    # k, temperature and weight chosen on validation (weight 0 when it does not help there).
    knn_vote: bool = True
    # After early stopping on the held-out split, retrain on all rows (train + that split) for the best
    # epoch count, keeping what val chose (OOS method + threshold, kNN vote). About twice the training time;
    # only when the split was carved from the given rows (an explicit val set is never trained on).
    refit: bool = False
    # Sort rows by token length inside windows of this many batches, then shuffle the batches: less padding,
    # so less compute per epoch. 0 = plain random batches.
    length_window: int = 8

    def __post_init__(self) -> None:
        """Refuse values that would fail deep inside a training run, or silently train nothing."""
        rules = (
            ("epochs", self.epochs >= 1, ">= 1"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("lr", self.lr > 0, "> 0"),
            ("head_lr", self.head_lr > 0, "> 0"),
            ("weight_decay", self.weight_decay >= 0, ">= 0"),
            ("warmup_ratio", 0 <= self.warmup_ratio < 1, "in [0, 1)"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, "in [0, 1)"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("max_length", self.max_length >= 4, ">= 4"),
            ("val_fraction", 0 <= self.val_fraction < 1, "in [0, 1)"),
            ("patience", self.patience >= 1, ">= 1"),
            ("ood_method", self.ood_method in ("auto", *METHODS), f"one of {('auto', *METHODS)}"),
            ("fallback_in_scope_recall", 0 < self.fallback_in_scope_recall <= 1, "in (0, 1]"),
            (
                "min_oos_recall",
                self.min_oos_recall is None or 0 < self.min_oos_recall <= 1,
                "null or in (0, 1]",
            ),
            ("eval_batch_size", self.eval_batch_size >= 1, ">= 1"),
            ("max_steps", self.max_steps is None or self.max_steps >= 1, "null or >= 1"),
            ("members", self.members >= 1, ">= 1"),
            ("freeze_layers", self.freeze_layers is None or self.freeze_layers >= 0, "null or >= 0"),
            ("contrastive_weight", self.contrastive_weight >= 0, ">= 0"),
            ("contrastive_temperature", self.contrastive_temperature > 0, "> 0"),
            ("pseudo_oos_weight", self.pseudo_oos_weight >= 0, ">= 0"),
            ("length_window", self.length_window >= 0, ">= 0"),
        )
        bad = [f"{name} must be {rule} (got {getattr(self, name)!r})" for name, ok, rule in rules if not ok]
        if bad:
            raise ValueError("; ".join(bad))

    @classmethod
    def fast(cls, **overrides: Any) -> TrainConfig:
        """A tiny preset for tests and smoke runs."""
        base = {"epochs": 3, "batch_size": 16, "lr": 1e-4, "head_lr": 5e-3, "patience": 3, "max_length": 32}
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    """Where a trained model went and how it scored."""

    out_dir: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
