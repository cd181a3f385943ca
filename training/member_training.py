"""Training the members of an intent model: one encoder + head per seed, one by one or in worker processes."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from training.batching import LengthBatchSampler
from training.contrastive import PairBatchSampler, supcon_loss
from training.inference import forward_texts
from training.model import IntentEnsemble, IntentNet
from training.pseudo_oos import mixed_outliers
from training.scoring import macro_f1
from training.train_config import OUT_OF_SCOPE, TrainConfig


def seed_all(seed: int) -> None:
    """Seed Python, NumPy and torch alike."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_accelerator() -> Accelerator:
    """bf16 on CUDA; without CUDA say cpu=True, or Accelerate ignores a `torchrun` / `accelerate launch`
    world on CPU and every process trains alone and writes the same model folder."""
    cuda = torch.cuda.is_available()
    return Accelerator(mixed_precision="bf16" if cuda else "no", cpu=not cuda)


def _class_weights(y: list[int], n: int) -> torch.Tensor:
    counts = Counter(y)
    w = torch.tensor([1.0 / math.sqrt(max(counts.get(i, 0), 1)) for i in range(n)])
    return w * n / w.sum()


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
    job: MemberJob,
    seed: int,
    accel: Accelerator,
    tokenizer: Any,
    progress: bool,
    desc: str,
    on_progress: Callable[[float], None] | None = None,
) -> tuple[IntentNet, dict[str, Any]]:
    """Fine-tune one encoder + head from `seed`; return it (best val epoch loaded, eval mode) and its run.
    `on_progress(fraction)` hears each optimizer step (steps done / steps planned; early stopping skips ahead)."""
    cfg, base, freeze, label_list, train_texts, y, val_texts, val_labels = job
    seed_all(seed)
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
            if on_progress is not None:
                on_progress(min(step / max(total, 1), 1.0))
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
            f1 = macro_f1(gold, pred)
            decision = [f1]
        decision = broadcast_object_list(decision) if accel.num_processes > 1 else decision
        f1 = float(decision[0])
        history.append({"seed": seed, "epoch": epoch + 1, "step": step, "valmacro_f1_argmax": f1})
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
    net, run = _train_member(job, seed, make_accelerator(), tokenizer, False, "")
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


def train_members(
    work: list[tuple[MemberJob, int]],
    parallel: bool,
    accel: Accelerator,
    tokenizer: Any,
    progress: bool,
    on_progress: Callable[[float], None] | None = None,
) -> tuple[list[IntentNet], list[dict[str, Any]]]:
    """Train one member per (job, seed): side by side in processes when `parallel`, else one by one.
    `on_progress(fraction)` hears the share of all members' steps done (members in processes: at the end)."""
    members: list[IntentNet] = []
    runs: list[dict[str, Any]] = []
    if len(work) > 1 and parallel and accel.num_processes == 1:
        # One small encoder leaves a GPU mostly idle (launch-bound): members train side by side.
        for (job, _), (state, run) in zip(work, _train_members_in_processes(work), strict=True):
            member = IntentNet(job.base, len(job.label_list), dropout=job.cfg.dropout)
            member.load_state_dict(state)
            members.append(member.to(accel.device).eval())
            runs.append(run)
        if on_progress is not None:
            on_progress(1.0)
        return members, runs
    for k, (job, seed) in enumerate(work):
        desc = "train intents" if len(work) == 1 else f"train intents {k + 1}/{len(work)}"
        member_progress = _share(on_progress, k, len(work))
        member, run = _train_member(job, seed, accel, tokenizer, progress, desc, member_progress)
        members.append(member)
        runs.append(run)
    return members, runs


def _share(on_progress: Callable[[float], None] | None, k: int, n: int) -> Callable[[float], None] | None:
    """Member k of n's own progress as the share of all members' progress."""
    if on_progress is None:
        return None
    report = on_progress
    return lambda fraction: report((k + fraction) / n)


def as_model(members: list[IntentNet]) -> IntentNet | IntentEnsemble:
    """One member as itself, several as an ensemble (eval mode)."""
    return members[0] if len(members) == 1 else IntentEnsemble(members).eval()
