"""Training batches: grouped by token length they carry far less padding, and still see every row once an
epoch in a seed-determined order."""

from __future__ import annotations

import random

import torch
from transformers import AutoTokenizer

from training.batching import LengthBatchSampler
from training.member_training import train_loader
from training.model import default_base_model
from training.train_config import TrainConfig


def _epoch(loader) -> tuple[list[int], int]:
    """(row ids in the order seen, padded tokens fed to the encoder)."""
    seen, tokens = [], 0
    for batch in loader:
        seen.extend(batch["labels"].tolist())
        tokens += batch["input_ids"].numel()
    return seen, tokens


def test_length_grouped_batches_cut_padding_and_keep_every_row() -> None:
    rng = random.Random(0)
    tokenizer = AutoTokenizer.from_pretrained(str(default_base_model()))
    words = ["card", "refund", "transfer", "pending", "account", "declined", "exchange", "rate"]
    texts = [" ".join(rng.choices(words, k=rng.choice([2, 3, 4, 5, 30, 40]))) for _ in range(203)]
    ids = list(range(len(texts)))  # the label doubles as the row id
    cfg = TrainConfig(batch_size=8, max_length=64)
    grouped = train_loader(texts, ids, cfg, seed=1, tokenizer=tokenizer)
    plain = train_loader(texts, ids, TrainConfig(batch_size=8, max_length=64, length_window=0), 1, tokenizer)

    first, grouped_tokens = _epoch(grouped)
    second, _ = _epoch(grouped)
    _, plain_tokens = _epoch(plain)
    # drop_last: 25 full batches of 8 = 200 distinct rows, each once.
    assert len(first) == len(set(first)) == 200 and len(second) == len(set(second)) == 200
    assert first != second  # reshuffled every epoch
    assert grouped_tokens < 0.6 * plain_tokens

    # Inside a batch the lengths are close: most batches do not pad a short query to a 40-word one.
    def spreads(loader) -> list[int]:
        return sorted(int(m.sum(-1).max() - m.sum(-1).min()) for m in (b["attention_mask"] for b in loader))

    grouped_spreads, plain_spreads = spreads(grouped), spreads(plain)
    assert grouped_spreads[len(grouped_spreads) // 2] <= 2 < 20 <= plain_spreads[len(plain_spreads) // 2]
    # Same seed, same order.
    again, _ = _epoch(train_loader(texts, ids, cfg, seed=1, tokenizer=tokenizer))
    assert again == first


def test_length_batch_sampler_covers_every_row_in_shuffled_batches() -> None:
    lengths = [1 + (i * 7) % 23 for i in range(70)]
    keep = LengthBatchSampler(
        lengths, 8, drop_last=False, generator=torch.Generator().manual_seed(0), window=2
    )
    batches = list(keep)
    assert len(keep) == len(batches) == 9 and sorted(i for b in batches for i in b) == list(range(70))
    drop = LengthBatchSampler(
        lengths, 8, drop_last=True, generator=torch.Generator().manual_seed(0), window=2
    )
    assert len(drop) == len(list(drop)) == 8
    # Batches come in random order, not longest (or shortest) first within each window.
    tops = [max(lengths[i] for i in b) for b in batches]
    assert tops != sorted(tops) and tops != sorted(tops, reverse=True)
