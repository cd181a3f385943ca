"""LoRA adaptation of the local generator on approved question -> answer pairs from reviewed conversations.

A pair is a logged turn (HOME/conversations.db `turns`) whose reply got a thumbs-up (`feedback.rating = 'up'`),
or whose route is template/rag and whose review item a person confirmed (HOME/review.db, status confirmed).
The logged text is already redacted: a reply that lost data to a tag ("write to [EMAIL]") is left out, or the
model would learn to write tags; a question asked several times counts once (its latest answer). Training uses
the runtime's chat format (`build_messages`, with the turn's cited snippets as passages) and puts the loss on
the answer tokens only. A fifth of the questions (fixed by a hash of the text) is held out: the adapter is
registered in a ModelRegistry at HOME/models/generator and promoted only when its answer loss on those is
lower than the served model's (the current adapter, or the base model); the server loads the current one.
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
from knowledge.redaction import has_tags
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
    """What a run produced: the registered version, whether it was promoted and why, and its metrics."""

    version: str
    path: Path
    metrics: dict[str, Any]
    promoted: bool = False
    reason: str = ""


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


def _key(question: str) -> str:
    return " ".join(question.lower().split())


def training_pairs(home: Path) -> tuple[list[Pair], dict[str, int]]:
    """The approved pairs fit to train on, and how many were left out (`redacted`, `duplicates`).

    A reply with a redaction tag is left out: the model would learn to answer "write to [EMAIL]". Of a question
    asked several times only the latest answer counts, so fifty copies do not outweigh the rest.
    """
    approved = collect_pairs(home)
    clean = [p for p in approved if not has_tags(p.answer)]
    latest = {_key(p.question): p for p in clean}  # oldest first: the last one wins
    pairs = [p for p in clean if latest[_key(p.question)] is p]
    return pairs, {"redacted": len(approved) - len(clean), "duplicates": len(clean) - len(pairs)}


def split_pairs(pairs: list[Pair], share: float = 0.2) -> tuple[list[Pair], list[Pair]]:
    """(train, held_out): a question is held out when its hash falls in the first `share`, so it keeps its side
    as the logs grow; at least one pair is held out (the one with the smallest hash) when there are two or more."""

    def rank(p: Pair) -> float:
        return int(hashlib.sha256(_key(p.question).encode()).hexdigest()[:12], 16) / 16**12

    held = [p for p in pairs if rank(p) < share]
    if not held and len(pairs) >= 2:
        held = [min(pairs, key=rank)]
    out = {id(p) for p in held}
    return [p for p in pairs if id(p) not in out], held


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
) -> GeneratorTrainResult:
    """LoRA-tune the local generator on HOME's approved pairs, register the adapter, promote it if it measures
    better.

    Better: a lower answer loss on the held-out pairs (`split_pairs`) than the served model's, the current
    adapter for this base or else the base model itself; `force` promotes regardless, `promote=False` never.
    Raises NotEnoughPairs (before loading any model) when fewer than `min_pairs` pairs are fit to train on.
    Uses CUDA with bfloat16 weights when available (LoRA weights stay float32), CPU float32 otherwise.
    """
    from assistant.generation._env import set_offline

    config = config or GeneratorTrainConfig()
    home = Path(home)
    pairs, left_out = training_pairs(home)
    if len(pairs) < min_pairs:
        skipped = (
            f" ({left_out['redacted']} replies with redacted data and {left_out['duplicates']} repeated"
            " questions left out)"
            if any(left_out.values())
            else ""
        )
        raise NotEnoughPairs(
            f"only {len(pairs)} approved question/answer pairs in {home}{skipped} (need at least {min_pairs}): "
            "thumbs-up replies or confirmed reviews of template/rag turns"
        )
    train_pairs, held_pairs = split_pairs(pairs)
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
    examples = [encode_pair(tokenizer, p, eos_id, config.max_length) for p in train_pairs]
    held = [encode_pair(tokenizer, p, eos_id, config.max_length) for p in held_pairs]
    size = max(1, config.batch_size)
    served = current_adapter(home, model_path)  # versions/vNNNN/model, or None: the base model serves

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
    registry = generator_registry(home)
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
