"""Benchmark evaluation on Banking77 and CLINC150 (train on train splits only).

Reproduce (from the repo root):
    .venv/bin/python -m training.evaluation --dataset banking77 --path ../shared/datasets/banking77 --json
    .venv/bin/python -m training.evaluation --dataset clinc150 --path ../shared/datasets/clinc150 --json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training import ood
from training.classifier import IntentClassifier, decide
from training.data import cap_per_class, load_intent_csv
from training.inference import forward_texts
from training.model import IntentEnsemble
from training.scoring import score_predictions
from training.train_config import OUT_OF_SCOPE, TrainConfig
from training.trainer import train_intent_model

DATASETS = ("banking77", "clinc150")


def _is_main_process() -> bool:
    """Under `accelerate launch` / torchrun every rank trains; only rank 0 scores the test split."""
    return int(os.environ.get("RANK", "0")) == 0


def _outputs(clf: IntentClassifier, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    clf.warm_up()
    return forward_texts(
        clf._net,
        clf._tokenize,
        texts,
        clf.device,  # type: ignore[arg-type]
        max_length=int(clf.config.get("max_length", 64)),
        batch_size=256,
    )


def _member_logits(
    clf: IntentClassifier, split: str, texts: list[str], gold: list[str]
) -> dict[str, np.ndarray]:
    """Each member's logits on `texts` (one member for a single model) + gold label ids, for offline study."""
    clf.warm_up()
    net = clf._net
    members = list(net.members) if isinstance(net, IntentEnsemble) else [net]
    out: dict[str, np.ndarray] = {}
    for k, member in enumerate(members):
        logits, _ = forward_texts(
            member,
            clf._tokenize,
            texts,
            clf.device,
            max_length=int(clf.config.get("max_length", 64)),
            batch_size=256,
        )
        out[f"{split}_logits_m{k}"] = logits.numpy().astype(np.float16)  # half the size; enough to rank
    idx = {lab: i for i, lab in enumerate(clf.labels)}
    out[f"{split}_gold"] = np.array([idx.get(g, -1) for g in gold])
    return out


def _load_clinc(path: Path) -> dict[str, list[list[str]]]:
    file = path / "data_full.json" if path.is_dir() else path
    return json.loads(file.read_text())


def _common(result: Any, dataset: str) -> dict[str, Any]:
    m = result.metrics
    return {
        "dataset": dataset,
        "train_seconds": m["train_seconds"],
        "device": m["device"],
        "best_epoch": m["best_epoch"],
        "epochs_run": m["epochs_run"],
        "n_train": m["n_train"],
        "refit": m.get("refit"),  # {"n_train", "epochs", ...} when the model was retrained on all rows
        "model_dir": str(result.out_dir),
    }


def eval_banking77(
    path: Path,
    config: TrainConfig,
    out_dir: Path,
    progress: bool,
    per_class: int | None,
    dump: Path | None = None,
) -> dict:
    """Closed-set: train on train.csv (10 % stratified val for early stopping), score top-1 on test.csv."""
    texts, labels = load_intent_csv(path / "train.csv")
    if per_class:
        texts, labels = cap_per_class(texts, labels, per_class, config.seed)
    test_x, test_y = load_intent_csv(path / "test.csv")
    res = train_intent_model(texts, labels, out_dir, config=config, progress=progress)
    if not _is_main_process():
        return {}
    clf = IntentClassifier.load(out_dir)
    logits, emb = _outputs(clf, test_x)
    det = clf._detector
    assert det is not None
    # Closed set: the top label (no OOS rejection), from the head blended with the kNN vote if chosen.
    pred = [clf.labels[i] for i in det.probs(logits, emb).argmax(-1).tolist()]
    s = score_predictions(test_y, pred)
    head_pred = [clf.labels[i] for i in logits.argmax(-1).tolist()]
    if dump is not None:
        np.savez_compressed(dump, **_member_logits(clf, "test", test_x, test_y))
    return {
        **_common(res, "banking77"),
        "accuracy": s["accuracy"],
        "macro_f1": s["macro_f1"],
        "head_accuracy": score_predictions(test_y, head_pred)["accuracy"],
        "knn_vote": res.metrics.get("knn_vote"),
        "n_test": len(test_y),
    }


def _dump_scores(
    dump: Path,
    clf: IntentClassifier,
    det: Any,
    vx: list[str],
    vy: list[str],
    tx: list[str],
    ty: list[str],
    t_logits: torch.Tensor,
    t_emb: torch.Tensor,
) -> None:
    """Save per-method OOS scores and correctness on val and test (npz) for offline operating-point study."""
    arrays: dict[str, np.ndarray] = {}
    for split, _texts, gold, outs in (
        ("val", vx, vy, _outputs(clf, vx)),
        ("test", tx, ty, (t_logits, t_emb)),
    ):
        logits, emb = outs
        pred = np.array([clf.labels[i] for i in det.probs(logits, emb).argmax(-1).tolist()])
        g = np.array(gold)
        arrays[f"{split}_is_oos"] = g == OUT_OF_SCOPE
        arrays[f"{split}_correct"] = (pred == g) & (g != OUT_OF_SCOPE)
        arrays[f"{split}_argmax_oos"] = pred == OUT_OF_SCOPE
        for method in ood.METHODS:
            arrays[f"{split}_{method}"] = replace(det, method=method).score(logits, emb).numpy()
    np.savez_compressed(dump, **arrays)


def eval_clinc150(
    path: Path,
    config: TrainConfig,
    out_dir: Path,
    progress: bool,
    per_class: int | None,
    dump: Path | None = None,
) -> dict:
    """Train on train+oos_train, calibrate on val+oos_val, report in-scope accuracy and OOS recall on test."""
    d = _load_clinc(path)
    tr = d["train"] + d["oos_train"]
    x, y = [t for t, _ in tr], [OUT_OF_SCOPE if lab == "oos" else lab for _, lab in tr]
    if per_class:
        x, y = cap_per_class(x, y, per_class, config.seed)
    val = d["val"] + d["oos_val"]
    vx, vy = [t for t, _ in val], [OUT_OF_SCOPE if lab == "oos" else lab for _, lab in val]
    test = d["test"] + d["oos_test"]
    tx, ty = [t for t, _ in test], [OUT_OF_SCOPE if lab == "oos" else lab for _, lab in test]
    res = train_intent_model(x, y, out_dir, config=config, val_texts=vx, val_labels=vy, progress=progress)
    if not _is_main_process():
        return {}
    clf = IntentClassifier.load(out_dir)
    logits, emb = _outputs(clf, tx)
    det = clf._detector
    assert det is not None
    chosen = score_predictions(ty, [p.name for p in decide(logits, emb, det)])
    is_oos = np.array([g == OUT_OF_SCOPE for g in ty])
    per_method: dict[str, dict[str, float]] = {}
    for method in ood.METHODS:
        thr = det.info["per_method"][method]["threshold"]
        alt = replace(det, method=method, threshold=thr)
        s = score_predictions(ty, [p.name for p in decide(logits, emb, alt)])
        auroc_s = alt.score(logits, emb).numpy()
        per_method[method] = {
            "threshold": thr,
            "in_scope_accuracy": s["in_scope_accuracy"],
            "oos_recall": s["oos_recall"],
            "auroc": _auroc(auroc_s[~is_oos], auroc_s[is_oos]),
        }
    closed = det.top_in_scope(logits, emb)
    pairs = [(g, c) for g, c in zip(ty, closed, strict=True) if g != OUT_OF_SCOPE]
    closed_acc = sum(g == c for g, c in pairs) / max(len(pairs), 1)
    if dump is not None:
        _dump_scores(dump, clf, det, vx, vy, tx, ty, logits, emb)
        members = {**_member_logits(clf, "val", vx, vy), **_member_logits(clf, "test", tx, ty)}
        np.savez_compressed(dump.with_name(dump.stem + "-members.npz"), **members)
    return {
        **_common(res, "clinc150"),
        "in_scope_accuracy": chosen["in_scope_accuracy"],
        "oos_recall": chosen["oos_recall"],
        "oos_method": det.method,
        "oos_threshold": det.threshold,
        "closed_set_in_scope_accuracy": closed_acc,
        "knn_vote": res.metrics.get("knn_vote"),
        "per_method_test": per_method,
        "val_operating_point": det.info["per_method"][det.method],
    }


def _auroc(in_scores: np.ndarray, oos_scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.concatenate([np.ones(len(in_scores)), np.zeros(len(oos_scores))])
    s = np.nan_to_num(np.concatenate([in_scores, oos_scores]), neginf=-1e30)
    return float(roc_auc_score(y, s))


def evaluate_intents(
    dataset: str,
    path: Path,
    config: TrainConfig | None = None,
    *,
    out_dir: Path | None = None,
    progress: bool = True,
    per_class: int | None = None,
    dump_scores: Path | None = None,
) -> dict[str, Any]:
    """Train on the benchmark's train split and score its test split.

    banking77 -> {"dataset", "accuracy", "macro_f1", "train_seconds", ...}
    clinc150  -> {"dataset", "in_scope_accuracy", "oos_recall", "train_seconds", ...}
    `per_class` caps training examples per intent for quick estimates.
    """
    check_dataset(dataset, Path(path))
    cfg = config or TrainConfig()

    def fn(out: Path) -> dict[str, Any]:
        if dataset == "banking77":
            return eval_banking77(Path(path), cfg, out, progress, per_class, dump_scores)
        return eval_clinc150(Path(path), cfg, out, progress, per_class, dump_scores)

    if out_dir is not None:
        return fn(Path(out_dir))
    with tempfile.TemporaryDirectory(prefix=f"lepton-eval-{dataset}-") as tmp:
        out = fn(Path(tmp) / "model")
        out.pop("model_dir", None)
        return out


def check_dataset(dataset: str, path: Path) -> None:
    """ValueError naming what is missing, before any training starts."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, not {dataset!r}")
    if not path.exists():
        raise ValueError(f"no such file or folder: {path}")
    if dataset == "banking77":
        missing = [name for name in ("train.csv", "test.csv") if not (path / name).is_file()]
        if missing:
            raise ValueError(f"{path} lacks {' and '.join(missing)} (Banking77's train and test splits)")
        return
    file = path / "data_full.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file}: not CLINC150's data_full.json ({exc})") from None
    splits = ("train", "val", "test", "oos_train", "oos_val", "oos_test")
    lacking = [k for k in splits if not isinstance(data, dict) or not isinstance(data.get(k), list)]
    if lacking:
        raise ValueError(f"{file}: CLINC150's data_full.json needs the lists {', '.join(lacking)}")


def config_from_overrides(pairs: Sequence[str], base: TrainConfig | None = None) -> TrainConfig:
    """`base` (default TrainConfig()) with `KEY=VALUE` overrides; ValueError names a bad key or value."""
    base = base or TrainConfig()
    names = [f.name for f in fields(TrainConfig)]
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in names:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {', '.join(names)}")
        try:
            overrides[key] = _parse_override(getattr(base, key), value.strip())
        except ValueError as exc:
            raise ValueError(f"--set {pair!r}: {exc}") from None
    try:
        return replace(base, **overrides)  # TrainConfig checks the ranges
    except TypeError as exc:  # e.g. a JSON list where a number belongs
        raise ValueError(f"--set: {exc}") from None


def _parse_override(current: Any, value: str) -> Any:
    """A `--set` value typed like the field's default; a None default takes JSON (0.85, 3, true, null)."""
    if isinstance(current, bool):
        word = value.lower()
        if word not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ValueError(f"{value!r} is not true or false")
        return word in ("1", "true", "yes", "on")
    if current is not None:
        return type(current)(value)
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(f"{value!r} is not a number, true/false or null") from None


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=DATASETS, required=True)
    p.add_argument("--path", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None, help="keep the trained model here")
    p.add_argument("--per-class", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--dump-scores",
        type=Path,
        default=None,
        help="save test logits per member (npz); clinc150 also OOS scores",
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="TrainConfig override")
    a = p.parse_args(argv)
    try:
        cfg = config_from_overrides(a.set)
        check_dataset(a.dataset, a.path)
    except ValueError as exc:
        p.error(str(exc))
    res = evaluate_intents(
        a.dataset,
        a.path,
        cfg,
        out_dir=a.out,
        progress=not a.json,
        per_class=a.per_class,
        dump_scores=a.dump_scores,
    )
    if res:  # empty on ranks other than 0
        print(json.dumps(res) if a.json else json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
