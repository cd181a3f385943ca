"""Fine-tuning MiniLM as an intent classifier (Accelerate: CPU, CUDA+bf16, or `accelerate launch`).

The run: split and train the members (training.member_training), fit the OOS detector on val
(training.detector_fit), score it (training.scoring), optionally refit on all rows, write the folder
(training.model_writer)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from accelerate import Accelerator
from transformers import AutoTokenizer

from training.calibration import OOSDetector
from training.classifier import decide
from training.data import stratified_split
from training.detector_fit import fit_detector, fit_statistics
from training.inference import forward_texts
from training.member_training import MemberJob, as_model, make_accelerator, seed_all, train_members
from training.model import IntentEnsemble, IntentNet, default_base_model
from training.model_writer import atomic_publish, write_model
from training.scoring import score_predictions
from training.train_config import OUT_OF_SCOPE, TrainConfig, TrainResult


def _refit(
    cfg: TrainConfig,
    job: MemberJob,
    runs: list[dict[str, Any]],
    accel: Accelerator,
    tokenizer: Any,
    progress: bool,
    parallel: bool,
    detector: OOSDetector | None,
    head: Any,
    metrics: dict[str, Any],
    on_progress: Callable[[float], None] | None = None,
) -> tuple[IntentNet | IntentEnsemble, OOSDetector | None, Any]:
    """Retrain every member on train + the held-out rows for its best epoch count (no early stopping).

    What was chosen on val stays (OOS method and threshold, kNN vote, multilingual blend weight); the
    Mahalanobis statistics, the kNN bank and the multilingual head are refitted on all rows. The val
    metrics stay those of the first model: the refitted one has seen val.
    """
    t0 = time.perf_counter()
    index = {lab: i for i, lab in enumerate(job.label_list)}
    extra = [(t, lab) for t, lab in zip(job.val_texts, job.val_labels, strict=True) if lab in index]
    texts = job.train_texts + [t for t, _ in extra]
    labels = [job.label_list[i] for i in job.y] + [lab for _, lab in extra]
    y = job.y + [index[lab] for _, lab in extra]
    work = [
        (
            job._replace(
                cfg=replace(cfg, epochs=max(int(run["best_epoch"]), 1)),
                train_texts=texts,
                y=y,
                val_texts=[],
                val_labels=[],
            ),
            int(run["seed"]),
        )
        for run in runs
    ]
    members, refit_runs = train_members(work, parallel, accel, tokenizer, progress, on_progress)
    model = as_model(members)
    seconds = time.perf_counter() - t0
    if detector is None:  # ranks other than 0 only train
        return model, None, None
    fitted = fit_statistics(model, tokenizer, job.label_list, cfg, accel.device, texts, labels)
    chosen = {"method": detector.method, "threshold": detector.threshold, "knn": detector.knn}
    detector = replace(fitted, **chosen, info={**detector.info, "refit": True})
    if head is not None:
        from training.multilingual_head import MultilingualHead

        weight, threshold = head.weight, head.threshold
        head = MultilingualHead.fit(texts, labels, job.label_list)
        head.weight, head.threshold = weight, threshold
    metrics["refit"] = {
        "n_train": len(texts),
        "epochs": [r["best_epoch"] for r in refit_runs],
        "steps": sum(r["steps"] for r in refit_runs),
        "seconds": round(seconds, 2),
    }
    metrics["train_seconds"] = round(metrics["train_seconds"] + seconds, 2)
    metrics["total_seconds"] = round(metrics["total_seconds"] + time.perf_counter() - t0, 2)
    return model, detector, head


def train_intent_model(
    texts: list[str],
    labels: list[str],
    out_dir: Path,
    *,
    config: TrainConfig | None = None,
    val_texts: list[str] | None = None,
    val_labels: list[str] | None = None,
    base_model: Path | None = None,
    progress: bool = True,
    on_progress: Callable[[float], None] | None = None,
) -> TrainResult:
    """Fine-tune the MiniLM encoder + linear head; write a self-contained model folder to `out_dir`.

    Labels equal to OUT_OF_SCOPE are trained as a class (config.oos_as_class) and/or used to
    calibrate the OOS threshold. Without val_* a stratified `val_fraction` split is held out.
    Early stopping keeps the epoch with the best val macro-F1. `on_progress(fraction)` hears the share of the
    run done as it goes (every optimizer step, then each step after training), for a progress bar.
    """
    cfg = config or TrainConfig()
    report = on_progress or (lambda fraction: None)
    out_dir = Path(out_dir)
    base = Path(base_model) if base_model else default_base_model()
    t0 = time.perf_counter()
    seed_all(cfg.seed)
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    carved = val_texts is None or val_labels is None  # val held out of the given rows (refit may use it)
    if carved:
        texts, labels, val_texts, val_labels = stratified_split(texts, labels, cfg.val_fraction, cfg.seed)
    train_texts, train_labels = list(texts), list(labels)
    if not cfg.oos_as_class:  # OOS examples only calibrate the detector
        extra = [t for t, lab in zip(train_texts, train_labels, strict=True) if lab == OUT_OF_SCOPE]
        keep = [(t, lab) for t, lab in zip(train_texts, train_labels, strict=True) if lab != OUT_OF_SCOPE]
        train_texts, train_labels = [t for t, _ in keep], [lab for _, lab in keep]
        val_texts, val_labels = list(val_texts) + extra, list(val_labels) + [OUT_OF_SCOPE] * len(extra)
    label_list = sorted(set(train_labels))
    if len([lab for lab in label_list if lab != OUT_OF_SCOPE]) < 2:
        raise ValueError("need at least two in-scope intents to train")
    index = {lab: i for i, lab in enumerate(label_list)}
    y = [index[lab] for lab in train_labels]

    accel = make_accelerator()
    device = accel.device
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    freeze = cfg.freeze_layers if cfg.freeze_layers is not None else (0 if device.type == "cuda" else 3)
    n_members = max(1, int(cfg.members))
    parallel = cfg.parallel_members if cfg.parallel_members is not None else device.type == "cuda"
    job = MemberJob(cfg, base, freeze, label_list, train_texts, y, list(val_texts), list(val_labels))
    refits = bool(cfg.refit and carved and val_texts)
    # The share of the run each phase ends at: members, their scoring (detector, multilingual head), the refit.
    trained, scored = (0.45, 0.5) if refits else (0.8, 0.95)
    members, runs = train_members(
        [(job, cfg.seed + k) for k in range(n_members)],
        parallel,
        accel,
        tokenizer,
        progress,
        lambda fraction: report(trained * fraction),
    )
    plain = as_model(members)
    history = [h for run in runs for h in run["history"]]
    step = sum(run["steps"] for run in runs)
    best_epoch = runs[0]["best_epoch"] if n_members == 1 else [run["best_epoch"] for run in runs]
    train_seconds = time.perf_counter() - t0

    result_metrics: dict[str, Any] = {}
    detector: OOSDetector | None = None
    head: Any = None
    if accel.is_main_process:
        logits_v, emb_v = forward_texts(
            plain,
            tokenizer,
            list(val_texts),
            device,
            max_length=cfg.max_length,
            batch_size=cfg.eval_batch_size,
        )
        stats = fit_statistics(plain, tokenizer, label_list, cfg, device, train_texts, train_labels)
        detector = fit_detector(stats, cfg, (logits_v, emb_v), list(val_labels))
        preds = [p.name for p in decide(logits_v, emb_v, detector)] if val_texts else []
        val_scores = score_predictions(list(val_labels), preds) if val_texts else {}
        result_metrics = {
            **{f"val_{k}": v for k, v in val_scores.items()},
            "accuracy": val_scores.get("accuracy"),
            "macro_f1": val_scores.get("macro_f1"),
            "oos_method": detector.method,
            "oos_threshold": detector.threshold,
            "oos_calibration": detector.info,
            "knn_vote": detector.knn.to_dict() if detector.knn is not None else None,
            "train_seconds": round(train_seconds, 2),
            "total_seconds": round(time.perf_counter() - t0, 2),
            "best_epoch": best_epoch,
            "epochs_run": len(history),
            "steps": step,
            "history": history,
            "n_train": len(train_texts),
            "n_val": len(val_texts),
            "n_labels": len(label_list),
            "device": str(device),
            "num_processes": accel.num_processes,
            "frozen_layers": freeze,
            "members": n_members,
        }
        if cfg.multilingual_head and val_texts:
            from training.multilingual_head import MultilingualHead, calibrate

            head = MultilingualHead.fit(train_texts, train_labels, label_list)
            probs_v = detector.probs(logits_v, emb_v).numpy()  # the head + kNN vote, as served
            oos = OUT_OF_SCOPE if OUT_OF_SCOPE in label_list else None
            blended = calibrate(head, probs_v, list(val_texts), list(val_labels), oos)
            served = score_predictions(list(val_labels), blended["names"])
            # The val_* metrics describe what is served (the blend and its OOS rule); MiniLM's own keep a prefix.
            result_metrics.update(
                {f"minilm_val_{k}": v for k, v in val_scores.items()},
                **{f"val_{k}": v for k, v in served.items()},
                accuracy=served["accuracy"],
                macro_f1=served["macro_f1"],
                multilingual_weight=blended["weight"],
                multilingual_threshold=blended["threshold"],
            )
    report(scored)
    if refits:
        plain, detector, head = _refit(
            cfg,
            job,
            runs,
            accel,
            tokenizer,
            progress,
            parallel,
            detector,
            head,
            result_metrics,
            lambda fraction: report(scored + (0.95 - scored) * fraction),
        )
    if detector is not None:  # rank 0
        run_config = {**cfg.to_dict(), "base_model": str(base), "labels": label_list}
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        try:
            write_model(tmp, plain, tokenizer, label_list, detector, result_metrics, run_config)
            if head is not None:
                head.save(tmp)
            atomic_publish(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    accel.wait_for_everyone()
    if not result_metrics and (out_dir / "metrics.json").exists():  # other ranks: what rank 0 wrote
        result_metrics = json.loads((out_dir / "metrics.json").read_text())
    report(1.0)
    return TrainResult(
        out_dir=out_dir, metrics=result_metrics, config={**cfg.to_dict(), "base_model": str(base)}
    )
