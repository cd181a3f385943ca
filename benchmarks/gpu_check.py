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


def check_generation(gguf: Path, results: list[dict], runs: int = 5) -> None:
    import torch

    from assistant.generation import LocalGenerator, Passage, build_messages
    from assistant.generation.model_cache import convert_gguf

    target = gguf.parent / "hf"
    t = time.perf_counter()
    if not (target / "config.json").exists():
        convert_gguf(gguf, target)
    convert_s = time.perf_counter() - t
    gen = LocalGenerator(target, prefix_cache=False)  # the device image has an older transformers
    t = time.perf_counter()
    gen.warm_up()
    load_s = time.perf_counter() - t
    articles = sorted((ROOT / "knowledge" / "demo" / "articles" / "en").glob("*.md"))[:3]
    passages = [Passage(id=p.stem, title=p.stem, text=p.read_text()[:900], language="en") for p in articles]
    messages = build_messages(
        "How long do I have to return an opened laptop, and who pays shipping?", passages, "en"
    )
    model = gen._model  # noqa: SLF001 - report what actually ran
    tok = gen._tokenizer  # noqa: SLF001
    prompt_text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompt_tokens = len(tok(prompt_text, add_special_tokens=False)["input_ids"])
    ttfts, rates = [], []
    for i in range(runs + 1):
        t = time.perf_counter()
        first = None
        pieces = []
        for piece in gen.stream(messages, max_new_tokens=200, timeout_s=60):
            if first is None:
                first = time.perf_counter() - t
            pieces.append(piece)
        total = time.perf_counter() - t
        new_tokens = len(tok("".join(pieces), add_special_tokens=False)["input_ids"])
        if i == 0:
            continue  # warm-up run: CUDA kernels and caches
        ttfts.append(first or total)
        rates.append(new_tokens / max(total - (first or 0), 1e-6))
    emit(
        results,
        {
            "check": "generation",
            "device": str(next(model.parameters()).device),
            "dtype": str(next(model.parameters()).dtype),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "convert_s": round(convert_s, 1),
            "load_s": round(load_s, 2),
            "prompt_tokens": prompt_tokens,
            "ttft_ms_median": round(1000 * statistics.median(ttfts), 1),
            "tokens_per_s_median": round(statistics.median(rates), 1),
            "runs": runs,
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
    p.add_argument("--encoder", type=Path, required=True, help="all-MiniLM-L6-v2 folder")
    p.add_argument("--data", type=Path, required=True, help="folder holding banking77/ and clinc150/")
    p.add_argument("--out", type=Path, default=Path("gpu-check.json"))
    p.add_argument("--skip", nargs="*", default=[])
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
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
    checks = [
        ("generation", lambda: check_generation(args.gguf, results, args.runs)),
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
