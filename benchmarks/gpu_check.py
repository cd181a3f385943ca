"""The CUDA paths on a lent GPU: bf16 generation with the bundled model, and intent fine-tuning.

Run where `torch.cuda.is_available()` (the device tool's machine), e.g.:
    python benchmarks/gpu_check.py --gguf /tmp/g/model.gguf --encoder .gpu/c/minilm --data .gpu/c/data
Prints one JSON object per check and writes them all to --out (default gpu-check.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def emit(results: list[dict], row: dict) -> None:
    results.append(row)
    print(json.dumps(row), flush=True)


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _prompt(gen) -> list[dict]:
    from assistant.generation import Passage, build_messages

    articles = sorted((ROOT / "knowledge" / "demo" / "articles" / "en").glob("*.md"))[:3]
    passages = [Passage(id=p.stem, title=p.stem, text=p.read_text()[:900], language="en") for p in articles]
    return build_messages(
        "How long do I have to return an opened laptop, and who pays shipping?", passages, "en"
    )


def _timed_stream(gen, messages, max_new_tokens: int) -> tuple[float, float, str]:
    """(time to first piece, total seconds, text) of one streamed reply."""
    t = time.perf_counter()
    first, pieces = None, []
    for piece in gen.stream(messages, max_new_tokens=max_new_tokens, timeout_s=60):
        if first is None:
            first = time.perf_counter() - t
        pieces.append(piece)
    total = time.perf_counter() - t
    return first or total, total, "".join(pieces)


def check_generation(
    gguf: Path, results: list[dict], runs: int = 5, tokens: int = 256, reply_tokens: int = 200
) -> Path:
    """Bundled model in bf16 on CUDA: `model.generate` against the StaticDecoder (CUDA graph per token)."""
    import torch

    from assistant.generation import LocalGenerator
    from training.bundled_generator import convert_gguf

    target = gguf.parent / "hf"
    t = time.perf_counter()
    if not (target / "config.json").exists():
        convert_gguf(gguf, target)
    convert_s = time.perf_counter() - t
    row: dict = {
        "check": "generation",
        "convert_s": round(convert_s, 1),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    gens = {}
    for name in ("hf", "static"):
        t = time.perf_counter()
        gen = LocalGenerator(target, decoder=name, prefix_cache=False)
        gen.warm_up()
        gens[name] = gen
        row[f"{name}_load_s"] = round(time.perf_counter() - t, 2)
    static = gens["static"]._static
    row["graphed"] = bool(static and static.graphed)
    row["graph_error"] = static.graph_error if static else "no static decoder"
    row["dtype"] = str(next(gens["static"]._model.parameters()).dtype)
    messages = _prompt(gens["hf"])
    tok = gens["hf"]._tokenizer
    ids = gens["hf"]._encode(messages)["input_ids"]
    row["prompt_tokens"] = int(ids.shape[1])
    eos = set(gens["hf"]._eos)

    row["fixed_new_tokens"] = tokens

    # Steady decode rate over a fixed number of new tokens (EOS ignored), the same prompt for both decoders.
    def fixed_rate(name: str) -> float:
        from transformers import GenerationConfig

        if name == "static":
            _sync()
            t0 = time.perf_counter()
            n = len(list(static.tokens(ids, tokens, set())))
            _sync()
            return n / (time.perf_counter() - t0)
        model = gens["hf"]._model
        cfg = GenerationConfig(
            do_sample=False,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            repetition_penalty=1.1,
            eos_token_id=sorted(eos),
            pad_token_id=gens["hf"]._pad,
        )
        _sync()
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=cfg)
        _sync()
        return (out.shape[1] - ids.shape[1]) / (time.perf_counter() - t0)

    for name in ("hf", "static"):
        fixed_rate(name)  # warm-up
        rates = [fixed_rate(name) for _ in range(runs)]
        row[f"{name}_tokens_per_s_fixed_median"] = round(statistics.median(rates), 1)
        row[f"{name}_tokens_per_s_fixed_all"] = [round(r, 1) for r in rates]
    # What a customer gets: streamed replies through the public API (EOS honoured).
    for name in ("hf", "static"):
        _timed_stream(gens[name], messages, reply_tokens)
        ttfts, rates, lens = [], [], []
        for _ in range(runs):
            first, total, text = _timed_stream(gens[name], messages, reply_tokens)
            n = len(tok(text, add_special_tokens=False)["input_ids"])
            ttfts.append(first)
            rates.append(n / max(total, 1e-6))
            lens.append(n)
        row[f"{name}_stream_ttft_ms_median"] = round(1000 * statistics.median(ttfts), 1)
        row[f"{name}_stream_tokens_per_s_median"] = round(statistics.median(rates), 1)
        row[f"{name}_stream_reply_tokens"] = lens[0]
    a = gens["hf"].generate(messages, max_new_tokens=reply_tokens)
    b = gens["static"].generate(messages, max_new_tokens=reply_tokens)
    row["same_reply_hf_vs_static"] = a == b
    row["common_prefix_chars"] = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    row["reply_static"] = b[:300]
    emit(results, row)
    return target


def check_lora(model_dir: Path, results: list[dict], steps: int = 30) -> None:
    """`train_generator` on CUDA (bf16 base, float32 LoRA) for a few steps, then generate with the adapter."""
    import tempfile

    import training.generator_lora as gl
    import training.generator_pairs as gp
    from assistant.generation import LocalGenerator, Passage

    pairs = []
    for i, path in enumerate(sorted((ROOT / "knowledge" / "demo" / "articles" / "en").glob("*.md"))[:24]):
        text = path.read_text()
        body = [b.strip() for b in text.split("\n\n") if b.strip() and not b.startswith(("#", "---"))]
        answer = body[0][:400] if body else text[:400]
        passage = Passage(id=path.stem, title=path.stem, text=text[:900], language="en")
        pairs.append(
            gp.Pair(f"t{i}", f"Tell me about {path.stem.replace('-', ' ')}", answer, "en", [passage])
        )
    gp.collect_pairs = lambda sources: pairs  # the approved pairs would come from the logs
    home = Path(tempfile.mkdtemp(prefix="lepton-lora-"))
    res = gl.train_generator(home, gl.GeneratorTrainConfig(steps=steps), min_pairs=4, model_path=model_dir)
    gen = LocalGenerator(model_dir, adapter_path=res.path, prefix_cache=False)
    text = gen.generate(_prompt(gen), max_new_tokens=40)
    emit(
        results,
        {
            "check": "lora",
            **res.metrics,
            "promoted": res.promoted,
            "adapter_loaded": gen.adapter_loaded,
            "reply": text[:200],
        },
    )


def check_intents(dataset: str, data: Path, results: list[dict]) -> None:
    from training.evaluation import evaluate_intents

    t = time.perf_counter()
    row = evaluate_intents(dataset, data / dataset, progress=False)
    row.update(check=f"intents-{dataset}", wall_s=round(time.perf_counter() - t, 1))
    emit(results, row)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gguf", type=Path, required=True)
    p.add_argument("--encoder", type=Path, default=None, help="all-MiniLM-L6-v2 folder")
    p.add_argument("--data", type=Path, default=None, help="folder holding banking77/ and clinc150/")
    p.add_argument("--out", type=Path, default=Path("gpu-check.json"))
    p.add_argument("--skip", nargs="*", default=[])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--tokens", type=int, default=256, help="new tokens of the fixed-length decode runs")
    p.add_argument("--reply-tokens", type=int, default=200, help="max_new_tokens of the streamed replies")
    p.add_argument("--lora-steps", type=int, default=30)
    args = p.parse_args()
    if args.encoder is not None:
        os.environ["LEPTON_BASE_ENCODER"] = str(args.encoder.resolve())
    import torch

    results: list[dict] = []
    emit(
        results,
        {
            "check": "env",
            "torch": torch.__version__,
            "cuda": torch.cuda.is_available(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
    )
    model_dir = args.gguf.parent / "hf"
    checks = [
        (
            "generation",
            lambda: check_generation(args.gguf, results, args.runs, args.tokens, args.reply_tokens),
        ),
        ("lora", lambda: check_lora(model_dir, results, args.lora_steps)),
        ("banking77", lambda: check_intents("banking77", args.data, results)),
        ("clinc150", lambda: check_intents("clinc150", args.data, results)),
    ]
    for name, fn in checks:
        if name in args.skip:
            continue
        try:
            fn()
        except Exception as exc:  # report and go on: the lease is short
            emit(results, {"check": name, "error": repr(exc)[:500]})
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
