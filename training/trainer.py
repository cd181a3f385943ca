"""Fine-tuning MiniLM as an intent classifier (Accelerate: CPU, CUDA+bf16, or `accelerate launch`)."""

from __future__ import annotations

import json
import math
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list
from sklearn.metrics import accuracy_score, f1_score
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from training import ood
from training.batching import LengthBatchSampler
from training.calibration import OOSDetector
from training.classifier import decide
from training.config import OUT_OF_SCOPE, TrainConfig, TrainResult
from training.contrastive import PairBatchSampler, supcon_loss
from training.data import stratified_split
from training.inference import forward_texts
from training.knn_vote import choose_vote
from training.model import IntentEnsemble, IntentNet, default_base_model
from training.pseudo_oos import mixed_outliers


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _accelerator() -> Accelerator:
    """bf16 on CUDA; without CUDA say cpu=True, or Accelerate ignores a `torchrun` / `accelerate launch`
    world on CPU and every process trains alone and writes the same model folder."""
    cuda = torch.cuda.is_available()
    return Accelerator(mixed_precision="bf16" if cuda else "no", cpu=not cuda)


def _class_weights(y: list[int], n: int) -> torch.Tensor:
    counts = Counter(y)
    w = torch.tensor([1.0 / math.sqrt(max(counts.get(i, 0), 1)) for i in range(n)])
    return w * n / w.sum()


def _macro_f1(gold: list[str], pred: list[str]) -> float:
    return float(f1_score(gold, pred, average="macro", zero_division=0))


def score_predictions(gold: list[str], pred: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1 and, when OOS is present, in-scope accuracy and OOS recall."""
    out: dict[str, float] = {
        "accuracy": float(accuracy_score(gold, pred)) if gold else float("nan"),
        "macro_f1": _macro_f1(gold, pred) if gold else float("nan"),
    }
    ins = [(g, p) for g, p in zip(gold, pred, strict=True) if g != OUT_OF_SCOPE]
    oos = [p for g, p in zip(gold, pred, strict=True) if g == OUT_OF_SCOPE]
    if ins:
        out["in_scope_accuracy"] = sum(g == p for g, p in ins) / len(ins)
    if oos:
        out["oos_recall"] = sum(p == OUT_OF_SCOPE for p in oos) / len(oos)
    return out


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


def _write_model(
    folder: Path,
    net: IntentNet | IntentEnsemble,
    tokenizer: Any,
    labels: list[str],
    detector: OOSDetector,
    metrics: dict[str, Any],
    config: dict[str, Any],
) -> None:
    """Member 0 in encoder/ + head.safetensors (the single-model layout); member k in member-k/."""
    from safetensors.torch import save_file

    members = list(net.members) if isinstance(net, IntentEnsemble) else [net]
    for k, member in enumerate(members):
        sub = folder if k == 0 else folder / f"member-{k}"
        member.encoder.save_pretrained(str(sub / "encoder"), safe_serialization=True)
        tokenizer.save_pretrained(str(sub / "encoder"))
        head = {n: v.detach().float().cpu().contiguous() for n, v in member.head.state_dict().items()}
        save_file(head, str(sub / "head.safetensors"))
    (folder / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1))
    detector.save(folder)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (folder / "config.json").write_text(json.dumps({**config, "members": len(members)}, indent=2))


def _atomic_publish(tmp: Path, out_dir: Path) -> None:
    """Rename a finished temp folder into place, replacing any previous model folder."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{int(time.time() * 1e6)}")
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class MemberJob(NamedTuple):
    """What every ensemble member trains on; only the seed differs (picklable for worker processes)."""

    cfg: TrainConfig
    base: Path
    freeze: int
    label_list: list[str]
    train_texts: list[str]
    y: list[int]
    val_texts: list[str]
    val_labels: list[str]


def train_loader(texts: list[str], y: list[int], cfg: TrainConfig, seed: int, tokenizer: Any) -> DataLoader:
    """Tokenised training batches, shuffled from `seed`: same-intent pairs for the contrastive loss, else
    batches sorted by token length in windows (`length_window`) or plain random batches."""

    def collate(batch: list[tuple[str, int]]) -> dict[str, torch.Tensor]:
        enc = tokenizer(
            [b[0] for b in batch],
            padding=True,
            truncation=True,
            max_length=cfg.max_length,
            return_tensors="pt",
        )
        return {
            "input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"],
            "labels": torch.tensor([b[1] for b in batch]),
        }

    rows = list(zip(texts, y, strict=True))
    if cfg.contrastive_weight > 0:
        return DataLoader(rows, batch_sampler=PairBatchSampler(y, cfg.batch_size, seed), collate_fn=collate)
    gen = torch.Generator().manual_seed(seed)
    drop_last = len(y) > cfg.batch_size
    if cfg.length_window > 0:
        # Random batches of short queries are mostly padding (Banking77: 2.8x the real tokens; windows of 8: 1.26x).
        lengths = [len(i) for i in tokenizer(texts, truncation=True, max_length=cfg.max_length)["input_ids"]]
        batches = LengthBatchSampler(lengths, cfg.batch_size, drop_last, gen, cfg.length_window)
        return DataLoader(rows, batch_sampler=batches, collate_fn=collate)
    return DataLoader(
        rows, batch_size=cfg.batch_size, shuffle=True, generator=gen, collate_fn=collate, drop_last=drop_last
    )


def _train_member(
    job: MemberJob, seed: int, accel: Accelerator, tokenizer: Any, progress: bool, desc: str
) -> tuple[IntentNet, dict[str, Any]]:
    """Fine-tune one encoder + head from `seed`; return it (best val epoch loaded, eval mode) and its run."""
    cfg, base, freeze, label_list, train_texts, y, val_texts, val_labels = job
    _seed_all(seed)
    device = accel.device
    index = {lab: i for i, lab in enumerate(label_list)}
    net = IntentNet(base, len(label_list), dropout=cfg.dropout)
    net.freeze_lower(freeze)

    loader = train_loader(train_texts, y, cfg, seed, tokenizer)
    head_params = list(net.head.parameters())
    trainable = [p for p in net.encoder.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.ndim > 1]
    no_decay = [p for p in trainable if p.ndim <= 1]
    optim = torch.optim.AdamW(
        [
            {"params": decay, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "lr": cfg.lr, "weight_decay": 0.0},
            {"params": head_params, "lr": cfg.head_lr, "weight_decay": 0.0},
        ]
    )
    steps_per_epoch = math.ceil(len(loader) / max(accel.num_processes, 1))
    total = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    sched = get_linear_schedule_with_warmup(optim, int(cfg.warmup_ratio * total), max(total, 1))
    net, optim, loader, sched = accel.prepare(net, optim, loader, sched)
    weights = _class_weights(y, len(label_list)) if cfg.class_weighting else None
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=weights.to(device) if weights is not None else None, label_smoothing=cfg.label_smoothing
    )

    oos_index = index.get(OUT_OF_SCOPE, -1)
    best_f1, best_state, best_epoch, bad, step, history = -1.0, None, 0, 0, 0, []
    bar = tqdm(total=total, disable=not (progress and accel.is_main_process), desc=desc)
    for epoch in range(cfg.epochs):
        net.train()
        for batch in loader:
            logits, emb = net(batch["input_ids"], batch["attention_mask"])
            loss = loss_fn(logits.float(), batch["labels"])
            if cfg.contrastive_weight > 0:
                loss = loss + cfg.contrastive_weight * supcon_loss(
                    emb, _contrastive_labels(batch["labels"], oos_index), cfg.contrastive_temperature
                )
            if cfg.pseudo_oos_weight > 0 and oos_index >= 0:
                mixed = mixed_outliers(emb, batch["labels"], oos_index)
                if mixed is not None:
                    inner = accel.unwrap_model(net)
                    target = torch.full((len(mixed),), oos_index, device=mixed.device)
                    mixed_logits = inner.head(inner.dropout(mixed)).float()
                    loss = loss + cfg.pseudo_oos_weight * torch.nn.functional.cross_entropy(
                        mixed_logits, target
                    )
            accel.backward(loss)
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            if step % 20 == 0:  # reading the loss waits for the GPU: not every step
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
            if step >= total:
                break
        plain = accel.unwrap_model(net)
        plain.eval()
        if not val_texts:  # a refit (or no val at all): train every epoch, keep the last weights
            history.append({"seed": seed, "epoch": epoch + 1, "step": step})
            best_epoch = epoch + 1
            if step >= total:
                break
            continue
        decision = [None]
        if accel.is_main_process:
            logits_v, _ = forward_texts(
                plain, tokenizer, val_texts, device, max_length=cfg.max_length, batch_size=cfg.eval_batch_size
            )
            pred = [label_list[i] for i in logits_v.argmax(-1).tolist()]
            gold = [lab if lab in index else OUT_OF_SCOPE for lab in val_labels]
            f1 = _macro_f1(gold, pred)
            decision = [f1]
        decision = broadcast_object_list(decision) if accel.num_processes > 1 else decision
        f1 = float(decision[0])
        history.append({"seed": seed, "epoch": epoch + 1, "step": step, "val_macro_f1_argmax": f1})
        if f1 > best_f1 + 1e-6:
            best_f1, best_epoch, bad = f1, epoch + 1, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in plain.state_dict().items()}
        else:
            bad += 1
        if bad >= cfg.patience or step >= total:
            break
    bar.close()
    plain = accel.unwrap_model(net)
    if best_state is not None:
        plain.load_state_dict(best_state)
    plain.eval()
    return plain, {"seed": seed, "best_epoch": best_epoch, "steps": step, "history": history}


def _contrastive_labels(labels: torch.Tensor, oos_index: int) -> torch.Tensor:
    """Out-of-scope rows get a label of their own: they push intents away but form no cluster."""
    if oos_index < 0:
        return labels
    own = -1 - torch.arange(len(labels), device=labels.device)
    return torch.where(labels == oos_index, own, labels)


def _member_worker(job: MemberJob, seed: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Process-pool entry point: train one member, return its CPU state dict and run record."""
    tokenizer = AutoTokenizer.from_pretrained(str(job.base))
    net, run = _train_member(job, seed, _accelerator(), tokenizer, False, "")
    return {k: v.detach().cpu() for k, v in net.state_dict().items()}, run


def _train_members_in_processes(
    work: list[tuple[MemberJob, int]],
) -> list[tuple[dict[str, torch.Tensor], dict]]:
    """Train one member per (job, seed), each in its own (spawned) process, concurrently."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")  # CUDA cannot be used from forked children
    with ProcessPoolExecutor(max_workers=len(work), mp_context=ctx) as pool:
        futures = [pool.submit(_member_worker, job, seed) for job, seed in work]
        return [f.result() for f in futures]


def _train_members(
    work: list[tuple[MemberJob, int]], parallel: bool, accel: Accelerator, tokenizer: Any, progress: bool
) -> tuple[list[IntentNet], list[dict[str, Any]]]:
    """Train one member per (job, seed): side by side in processes when `parallel`, else one by one."""
    members: list[IntentNet] = []
    runs: list[dict[str, Any]] = []
    if len(work) > 1 and parallel and accel.num_processes == 1:
        # One small encoder leaves a GPU mostly idle (launch-bound): members train side by side.
        for (job, _), (state, run) in zip(work, _train_members_in_processes(work), strict=True):
            member = IntentNet(job.base, len(job.label_list), dropout=job.cfg.dropout)
            member.load_state_dict(state)
            members.append(member.to(accel.device).eval())
            runs.append(run)
        return members, runs
    for k, (job, seed) in enumerate(work):
        desc = "train intents" if len(work) == 1 else f"train intents {k + 1}/{len(work)}"
        member, run = _train_member(job, seed, accel, tokenizer, progress, desc)
        members.append(member)
        runs.append(run)
    return members, runs


def _as_model(members: list[IntentNet]) -> IntentNet | IntentEnsemble:
    return members[0] if len(members) == 1 else IntentEnsemble(members).eval()


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
    members, refit_runs = _train_members(work, parallel, accel, tokenizer, progress)
    model = _as_model(members)
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
) -> TrainResult:
    """Fine-tune the MiniLM encoder + linear head; write a self-contained model folder to `out_dir`.

    Labels equal to OUT_OF_SCOPE are trained as a class (config.oos_as_class) and/or used to
    calibrate the OOS threshold. Without val_* a stratified `val_fraction` split is held out.
    Early stopping keeps the epoch with the best val macro-F1.
    """
    cfg = config or TrainConfig()
    out_dir = Path(out_dir)
    base = Path(base_model) if base_model else default_base_model()
    t0 = time.perf_counter()
    _seed_all(cfg.seed)
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

    accel = _accelerator()
    device = accel.device
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    freeze = cfg.freeze_layers if cfg.freeze_layers is not None else (0 if device.type == "cuda" else 3)
    n_members = max(1, int(cfg.members))
    parallel = cfg.parallel_members if cfg.parallel_members is not None else device.type == "cuda"
    job = MemberJob(cfg, base, freeze, label_list, train_texts, y, list(val_texts), list(val_labels))
    members, runs = _train_members(
        [(job, cfg.seed + k) for k in range(n_members)], parallel, accel, tokenizer, progress
    )
    plain = _as_model(members)
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
    if cfg.refit and carved and val_texts:
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
        )
    if detector is not None:  # rank 0
        run_config = {**cfg.to_dict(), "base_model": str(base), "labels": label_list}
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        try:
            _write_model(tmp, plain, tokenizer, label_list, detector, result_metrics, run_config)
            if head is not None:
                head.save(tmp)
            _atomic_publish(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    accel.wait_for_everyone()
    if not result_metrics and (out_dir / "metrics.json").exists():  # other ranks: what rank 0 wrote
        result_metrics = json.loads((out_dir / "metrics.json").read_text())
    return TrainResult(
        out_dir=out_dir, metrics=result_metrics, config={**cfg.to_dict(), "base_model": str(base)}
    )
