"""Latency benchmark for LocalGenerator on a typical RAG prompt (not collected by pytest).

    .venv/bin/python tests/assistant/generation/bench_local_generator.py [--threads N] [--dtype bfloat16]
        [--no-prefix-cache] [--passage-chars 450] [--runs 3]

Prints conversion/load time, prompt tokens, time to first token (wall and process CPU seconds) and decode
tokens/s. CPU seconds matter on a shared machine: wall time there includes other tenants' load.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from assistant.generation import LocalGenerator, Passage, build_messages, bundled_generator_path

ROOT = Path(__file__).resolve().parents[3] / "knowledge" / "demo" / "articles" / "en"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--no-prefix-cache", action="store_true")
    ap.add_argument("--passage-chars", type=int, default=450)
    ap.add_argument("--new-tokens", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    import torch

    t = time.perf_counter()
    path = bundled_generator_path()
    print(f"bundled_generator_path: {time.perf_counter() - t:.2f}s")
    gen = LocalGenerator(
        path, num_threads=args.threads, dtype=args.dtype, prefix_cache=not args.no_prefix_cache
    )
    t = time.perf_counter()
    gen.warm_up()
    print(
        f"load+warm_up: {time.perf_counter() - t:.2f}s  device={gen.device} threads={torch.get_num_threads()}"
    )
    names = ["return-policy.md", "refunds.md", "exchanges.md"]
    passages = [Passage(id=n, title=n[:-3], text=(ROOT / n).read_text(), language="en") for n in names]
    messages = build_messages(
        "How long do I have to return a laptop I opened?",
        passages,
        "en",
        max_passage_chars=args.passage_chars,
    )
    print("prompt tokens:", gen._encode(messages)["input_ids"].shape[1])
    ttft_w, ttft_c, rate_w, rate_c = [], [], [], []
    for _ in range(args.runs):
        w0, c0 = time.perf_counter(), _cpu()
        first_w = first_c = None
        pieces = []
        for piece in gen.stream(messages, max_new_tokens=args.new_tokens, timeout_s=300):
            if first_w is None:
                first_w, first_c = time.perf_counter() - w0, _cpu() - c0
            pieces.append(piece)
        w, c = time.perf_counter() - w0, _cpu() - c0
        n = len(gen._tokenizer("".join(pieces))["input_ids"])
        ttft_w.append(first_w)
        ttft_c.append(first_c)
        rate_w.append((n - 1) / max(w - first_w, 1e-6))
        rate_c.append((n - 1) / max(c - first_c, 1e-6))
        print(
            f"  ttft {first_w * 1000:.0f} ms wall / {first_c * 1000:.0f} ms cpu; {n} tokens; "
            f"{rate_w[-1]:.1f} tok/s wall, {rate_c[-1]:.1f} tok/cpu-s; finish={gen.last_finish_reason}"
        )
    print(
        f"median ttft {statistics.median(ttft_w) * 1000:.0f} ms wall / {statistics.median(ttft_c) * 1000:.0f} ms cpu; "
        f"decode {statistics.median(rate_w):.1f} tok/s wall / {statistics.median(rate_c):.1f} tok per cpu-s"
    )
    print("reply:", "".join(pieces)[:300])


if __name__ == "__main__":
    main()
