"""Batched forward passes shared by training-time validation and serving."""

from __future__ import annotations

import contextlib

import torch

from training.model import IntentEnsemble, IntentNet


def autocast_for(device: torch.device) -> contextlib.AbstractContextManager[object]:
    """bf16 autocast on CUDA, nothing on CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.inference_mode()
def forward_texts(
    net: IntentNet | IntentEnsemble,
    tokenizer: object,
    texts: list[str],
    device: torch.device,
    *,
    max_length: int,
    batch_size: int = 128,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return float32 CPU (logits, embeddings) for `texts`, batching by length for speed."""
    if not texts:
        return torch.zeros(0, net.num_labels), torch.zeros(0, net.embed_dim)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    logits_out: list[torch.Tensor] = []
    emb_out: list[torch.Tensor] = []
    for start in range(0, len(order), batch_size):
        chunk = [texts[i] for i in order[start : start + batch_size]]
        enc = tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt")  # type: ignore[operator]
        with autocast_for(device):
            logits, emb = net(enc["input_ids"].to(device), enc["attention_mask"].to(device))
        logits_out.append(logits.float().cpu())
        emb_out.append(emb.float().cpu())
    logits_all = torch.cat(logits_out)
    emb_all = torch.cat(emb_out)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return logits_all[inverse], emb_all[inverse]
