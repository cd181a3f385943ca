"""Scores of intent predictions against gold labels: accuracy, macro-F1, in-scope accuracy, OOS recall."""

from __future__ import annotations

from sklearn.metrics import accuracy_score, f1_score

from training.train_config import OUT_OF_SCOPE


def macro_f1(gold: list[str], pred: list[str]) -> float:
    """Macro-averaged F1 over the labels present (0 where a label is never predicted)."""
    return float(f1_score(gold, pred, average="macro", zero_division=0))


def score_predictions(gold: list[str], pred: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1 and, when OOS is present, in-scope accuracy and OOS recall."""
    out: dict[str, float] = {
        "accuracy": float(accuracy_score(gold, pred)) if gold else float("nan"),
        "macro_f1": macro_f1(gold, pred) if gold else float("nan"),
    }
    ins = [(g, p) for g, p in zip(gold, pred, strict=True) if g != OUT_OF_SCOPE]
    oos = [p for g, p in zip(gold, pred, strict=True) if g == OUT_OF_SCOPE]
    if ins:
        out["in_scope_accuracy"] = sum(g == p for g, p in ins) / len(ins)
    if oos:
        out["oos_recall"] = sum(p == OUT_OF_SCOPE for p in oos) / len(oos)
    return out
