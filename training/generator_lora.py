"""LoRA adaptation of the local generator on approved question -> answer pairs from reviewed conversations.

The pairs and their encoding come from training.generator_pairs. A fifth of the questions (fixed by a hash of
the text) is held out: the adapter is registered in a ModelRegistry at HOME/models/generator and promoted only
when its answer loss on those is lower than the served model's (the current adapter, or the base model); the
server loads the current one.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from knowledge.runtime_env import set_offline
from training.bundled_generator import bundled_generator_path
from training.generator_pairs import PairSources, encode_pair, fingerprint, split_pairs, training_pairs
from training.registry import ModelRegistry

log = logging.getLogger(__name__)

BUNDLED_BASE = "bundled:smollm2-135m-instruct"


class NotEnoughPairs(ValueError):
    """Fewer approved pairs than the caller asked for."""


@dataclass
class GeneratorTrainConfig:
    """Knobs of one LoRA run (defaults sized for the 135M bundled model)."""

    steps: int = 60
    batch_size: int = 4
    learning_rate: float = 2e-4
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    max_length: int = 768
    seed: int = 0


@dataclass
class GeneratorTrainResult:
    """What a run produced: the registered version, whether it was promoted and why, and its metrics."""

    version: str
    path: Path
    metrics: dict[str, Any]
    promoted: bool = False
    reason: str = ""


def generator_registry(home: Path) -> ModelRegistry:
    """The adapter registry of a Lepton home on one machine: HOME/models/generator (a home configured with
    `artifact_dir` or `database_url` passes its own registry to the functions below)."""
    return ModelRegistry(Path(home) / "models" / "generator")


def base_id(model_path: Path | str | None) -> str:
    """A stable name for the base model an adapter belongs to."""
    return str(Path(model_path).resolve()) if model_path else BUNDLED_BASE


def current_adapter(
    home: Path, model_path: Path | str | None = None, *, registry: ModelRegistry | None = None
) -> Path | None:
    """The current adapter folder for this base model, or None (none trained, or trained on another base).
    `registry`: the home's adapter registry when it is not HOME/models/generator (see generator_registry)."""
    registry = registry or generator_registry(home)
    current = registry.current()
    if current is None:
        return None
    version, path = current
    try:
        base = registry.metadata(version).get("config", {}).get("base")
    except (OSError, json.JSONDecodeError):
        return None
    if base != base_id(model_path):
        log.warning(
            "generator adapter %s was trained on %s, not %s: not used", version, base, base_id(model_path)
        )
        return None
    return path


# -- training ---------------------------------------------------------------------------------------
def _end_of_turn(tokenizer: Any) -> int:
    for tok in ("<|im_end|>", "<|eot_id|>", "<|end|>"):
        tid = tokenizer.convert_tokens_to_ids(tok)
        if isinstance(tid, int) and tid >= 0 and tid != tokenizer.unk_token_id:
            return tid
    return int(tokenizer.eos_token_id)


def _batch(examples: list[tuple[list[int], list[int]]], pad_id: int, device: str) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (x, y) in enumerate(examples):
        ids[i, : len(x)] = torch.tensor(x)
        labels[i, : len(y)] = torch.tensor(y)
        mask[i, : len(x)] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


def _mean_loss(
    model: Any, examples: list[tuple[list[int], list[int]]], pad_id: int, device: str, size: int
) -> float:
    """Token-weighted answer loss over `examples` (no gradients)."""
    import torch

    total, tokens = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(examples), size):
            chunk = examples[i : i + size]
            n = sum(sum(1 for t in y[1:] if t != -100) for _, y in chunk)
            total += float(model(**_batch(chunk, pad_id, device)).loss) * n
            tokens += n
    return total / max(tokens, 1)


def _served_loss(
    path: Path, adapter: Path, dtype: Any, device: str, held: list, pad_id: int, size: int
) -> float:
    """Held-out answer loss of the base model with the served adapter."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype).to(device)
    model = PeftModel.from_pretrained(base, str(adapter))
    try:
        return _mean_loss(model, held, pad_id, device, size)
    finally:
        del model, base


def train_generator(
    home: Path,
    config: GeneratorTrainConfig | None = None,
    *,
    min_pairs: int = 20,
    model_path: Path | None = None,
    cache_dir: Path | None = None,
    device: str | None = None,
    promote: bool = True,
    force: bool = False,
    sources: PairSources | None = None,
    registry: ModelRegistry | None = None,
) -> GeneratorTrainResult:
    """LoRA-tune the local generator on the approved pairs of `sources` (HOME's conversation log and review
    queue, or the shared database's), register the adapter under HOME, promote it if it measures better.

    Better: a lower answer loss on the held-out pairs (`split_pairs`) than the served model's, the current
    adapter for this base or else the base model itself; `force` promotes regardless, `promote=False` never.
    `registry`: where the adapter goes when not HOME/models/generator (a shared `artifact_dir`, `database_url`).
    Raises NotEnoughPairs (before loading any model) when fewer than `min_pairs` pairs are fit to train on.
    Uses CUDA with bfloat16 weights when available (LoRA weights stay float32), CPU float32 otherwise.
    """
    config = config or GeneratorTrainConfig()
    home = Path(home)
    pairs, left_out = training_pairs(sources)
    if len(pairs) < min_pairs:
        skipped = (
            f" ({left_out['redacted']} replies with redacted data and {left_out['duplicates']} repeated"
            " questions left out)"
            if any(left_out.values())
            else ""
        )
        raise NotEnoughPairs(
            f"only {len(pairs)} approved question/answer pairs in the logs{skipped} (need at least {min_pairs}): "
            "thumbs-up replies or confirmed reviews of template/rag turns"
        )
    train_pairs, held_pairs = split_pairs(pairs)
    set_offline()
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    path = Path(model_path) if model_path else bundled_generator_path(cache_dir)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    eos_id = _end_of_turn(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id
    examples = [encode_pair(tokenizer, p, eos_id, config.max_length) for p in train_pairs]
    held = [encode_pair(tokenizer, p, eos_id, config.max_length) for p in held_pairs]
    size = max(1, config.batch_size)
    registry = registry or generator_registry(home)
    # versions/vNNNN/model, or None: the base model serves
    served = current_adapter(home, model_path, registry=registry)

    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype).to(device)
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)  # a fresh adapter adds zero: the model is still the base one
    loss_before = _mean_loss(model, examples, pad_id, device, size)
    held_base = _mean_loss(model, held, pad_id, device, size)
    held_served = (
        _served_loss(path, served, dtype, device, held, pad_id, size) if served is not None else held_base
    )

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    order: list[int] = []
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    for step in range(config.steps):
        if len(order) < size:
            fresh = list(range(len(examples)))
            random.shuffle(fresh)
            order.extend(fresh)
        chunk = [examples[i] for i in order[:size]]
        del order[:size]
        loss = model(**_batch(chunk, pad_id, device)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if step % 10 == 0 or step == config.steps - 1:
            log.info("step %d/%d loss %.4f", step + 1, config.steps, losses[-1])
    seconds = time.perf_counter() - start
    loss_after = _mean_loss(model, examples, pad_id, device, size)
    held_after = _mean_loss(model, held, pad_id, device, size)

    metrics = {
        "heldout_loss": round(held_after, 4),
        "heldout_loss_base": round(held_base, 4),
        "heldout_loss_served": round(held_served, 4),
        "served": served.parent.name if served is not None else "base",
        "train_loss_before": round(loss_before, 4),
        "train_loss_after": round(loss_after, 4),
        "pairs": len(train_pairs),
        "heldout_pairs": len(held_pairs),
        "left_out_redacted": left_out["redacted"],
        "left_out_duplicates": left_out["duplicates"],
        "steps": config.steps,
        "seconds": round(seconds, 2),
        "seconds_per_step": round(seconds / max(config.steps, 1), 3),
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
    }
    run_config = asdict(config) | {"base": base_id(model_path), "target_modules": list(config.target_modules)}
    tmp = Path(tempfile.mkdtemp(prefix="lepton-adapter-"))
    try:
        model.save_pretrained(str(tmp))
        version = registry.register(
            tmp, metrics=metrics, data_fingerprint=fingerprint(pairs), config=run_config
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    better = round(held_after, 4) < round(held_served, 4)
    versus = (
        f"held-out answer loss {held_after:.4f} against {held_served:.4f} for the served {metrics['served']}"
    )
    if not promote:
        promoted, reason = False, "registered only (promotion not asked for)"
    elif not held_pairs and not force:
        promoted, reason = False, "no held-out pair to measure it on (needs two or more pairs)"
    elif better or force:
        promoted, reason = True, versus + ("" if better else " (forced)")
    else:
        promoted, reason = False, versus + ": not better"
    if promoted:
        registry.promote(version)
    return GeneratorTrainResult(
        version=version, path=registry.path_of(version), metrics=metrics, promoted=promoted, reason=reason
    )
