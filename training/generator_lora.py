"""LoRA adaptation of the local generator on approved question -> answer pairs from reviewed conversations.

A pair is a logged turn (HOME/conversations.db `turns`) whose reply got a thumbs-up (`feedback.rating = 'up'`),
or whose route is template/rag and whose review item a person confirmed (HOME/review.db, status confirmed).
The logged text is already redacted. Training uses the runtime's chat format (`build_messages`, with the
turn's cited snippets as passages) and puts the loss on the answer tokens only. The adapter is registered
in a ModelRegistry at HOME/models/generator and promoted; the local generator loads the current one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
import sqlite3
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.generation.passage import Passage
from assistant.generation.prompt import build_messages
from training.registry import ModelRegistry

log = logging.getLogger(__name__)

BUNDLED_BASE = "bundled:smollm2-135m-instruct"
APPROVED_ROUTES = ("template", "rag")


class NotEnoughPairs(ValueError):
    """Fewer approved pairs than the caller asked for."""


@dataclass
class Pair:
    """One approved question -> answer example, with the passages the reply cited."""

    turn_id: str
    question: str
    answer: str
    language: str
    passages: list[Passage] = field(default_factory=list)


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
    """What a run produced: the registered (and promoted) version and its metrics."""

    version: str
    path: Path
    metrics: dict[str, Any]


def generator_registry(home: Path) -> ModelRegistry:
    """The adapter registry of a Lepton home: HOME/models/generator."""
    return ModelRegistry(Path(home) / "models" / "generator")


def base_id(model_path: Path | str | None) -> str:
    """A stable name for the base model an adapter belongs to."""
    return str(Path(model_path).resolve()) if model_path else BUNDLED_BASE


def current_adapter(home: Path, model_path: Path | str | None = None) -> Path | None:
    """The current adapter folder for this base model, or None (none trained, or trained on another base)."""
    registry = generator_registry(home)
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


# -- data -------------------------------------------------------------------------------------------
def _passages(sources: str | None, language: str) -> list[Passage]:
    try:
        items = json.loads(sources or "[]")
    except json.JSONDecodeError:
        return []
    out = []
    for s in items if isinstance(items, list) else []:
        if isinstance(s, dict) and s.get("snippet"):
            out.append(
                Passage(
                    id=str(s.get("id", "")),
                    title=str(s.get("title", "")),
                    text=str(s["snippet"]),
                    language=language,
                    uri=str(s.get("uri", "")),
                )
            )
    return out[:3]  # the runtime composes from at most three passages


def _confirmed_turns(home: Path) -> set[str]:
    path = home / "review.db"
    if not path.is_file():
        return set()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("select turn_id from items where status = 'confirmed'").fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        conn.close()
    return {r[0] for r in rows}


def collect_pairs(home: Path) -> list[Pair]:
    """Approved pairs of HOME, oldest first (thumbs-up, or template/rag turns a reviewer confirmed)."""
    home = Path(home)
    path = home / "conversations.db"
    if not path.is_file():
        return []
    confirmed = _confirmed_turns(home)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
        if "turns" not in tables:
            return []
        up = "exists (select 1 from feedback f where f.message_id = t.id and f.rating = 'up')"
        rows = conn.execute(
            f"select t.id, t.message, t.reply, t.route, t.language, t.sources,"
            f" {up if 'feedback' in tables else '0'} as liked from turns t order by t.created_at"
        ).fetchall()
    finally:
        conn.close()
    pairs = []
    for r in rows:
        question, answer = (r["message"] or "").strip(), (r["reply"] or "").strip()
        if not question or not answer:
            continue
        if r["liked"] or (r["route"] in APPROVED_ROUTES and r["id"] in confirmed):
            language = r["language"] or "en"
            pairs.append(Pair(r["id"], question, answer, language, _passages(r["sources"], language)))
    return pairs


def fingerprint(pairs: list[Pair]) -> str:
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.turn_id, p.question, p.answer, [q.text for q in p.passages]]).encode())
    return h.hexdigest()[:16]


def encode_pair(tokenizer: Any, pair: Pair, eos_id: int, max_length: int) -> tuple[list[int], list[int]]:
    """(input_ids, labels): the runtime prompt (masked with -100) followed by the answer and end-of-turn."""

    def prompt_ids(passages: list[Passage]) -> list[int]:
        enc = tokenizer.apply_chat_template(
            build_messages(pair.question, passages, pair.language),
            add_generation_prompt=True,
            return_dict=True,
        )
        return list(enc["input_ids"])

    answer = list(tokenizer(pair.answer, add_special_tokens=False)["input_ids"]) + [eos_id]
    prompt = prompt_ids(pair.passages)
    if len(prompt) + len(answer) > max_length and pair.passages:
        prompt = prompt_ids([])  # too long with the passages: keep the question only
    answer = answer[: max(1, max_length - len(prompt))]
    return prompt + answer, [-100] * len(prompt) + answer


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


def train_generator(
    home: Path,
    config: GeneratorTrainConfig | None = None,
    *,
    min_pairs: int = 20,
    model_path: Path | None = None,
    cache_dir: Path | None = None,
    device: str | None = None,
    promote: bool = True,
) -> GeneratorTrainResult:
    """LoRA-tune the local generator on HOME's approved pairs, register the adapter and promote it.

    Raises NotEnoughPairs (before loading any model) when there are fewer than `min_pairs` pairs.
    Uses CUDA with bfloat16 weights when available (LoRA weights stay float32), CPU float32 otherwise.
    """
    from assistant.generation._env import set_offline

    config = config or GeneratorTrainConfig()
    home = Path(home)
    pairs = collect_pairs(home)
    if len(pairs) < min_pairs:
        raise NotEnoughPairs(
            f"only {len(pairs)} approved question/answer pairs in {home} (need at least {min_pairs}): "
            "thumbs-up replies or confirmed reviews of template/rag turns"
        )
    set_offline()
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from assistant.generation.model_cache import bundled_generator_path

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    path = Path(model_path) if model_path else bundled_generator_path(cache_dir)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    eos_id = _end_of_turn(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_id
    examples = [encode_pair(tokenizer, p, eos_id, config.max_length) for p in pairs]

    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype).to(device)
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    size = max(1, config.batch_size)
    loss_before = _mean_loss(model, examples, pad_id, device, size)

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

    metrics = {
        "train_loss_before": round(loss_before, 4),
        "train_loss_after": round(loss_after, 4),
        "pairs": len(pairs),
        "steps": config.steps,
        "seconds": round(seconds, 2),
        "seconds_per_step": round(seconds / max(config.steps, 1), 3),
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
    }
    run_config = asdict(config) | {"base": base_id(model_path), "target_modules": list(config.target_modules)}
    registry = generator_registry(home)
    tmp = Path(tempfile.mkdtemp(prefix="lepton-adapter-"))
    try:
        model.save_pretrained(str(tmp))
        version = registry.register(
            tmp, metrics=metrics, data_fingerprint=fingerprint(pairs), config=run_config
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if promote:
        registry.promote(version)
    return GeneratorTrainResult(version=version, path=registry.path_of(version), metrics=metrics)
