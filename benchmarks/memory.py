"""Server memory: RSS of a real `lepton serve` (default settings: bundled generator) after warm-up and after
answering turns of every route (psutil; the server process and any children). Goal <= 1.5 GB.

    python benchmarks/memory.py [--home DIR] [--runs 1]
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RAG_MESSAGES, TEMPLATE_MESSAGES, base_args, bench_home, emit, log, machine, serve  # noqa: E402

GOAL_MB = 1536


def rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return round(total / 2**20, 1)


def measure(home: Path, env: dict[str, str] | None) -> dict:
    import httpx

    with serve(home, env=env) as live:
        time.sleep(2)
        after_warm = rss_mb(live.proc.pid)
        with httpx.Client(base_url=live.url, timeout=300) as client:
            for m in TEMPLATE_MESSAGES + RAG_MESSAGES[:3]:
                client.post("/v1/chat", json={"message": m}).raise_for_status()
        after_turns = rss_mb(live.proc.pid)
    return {"rss_mb_after_warm_up": after_warm, "rss_mb_after_turns": after_turns}


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.set_defaults(runs=1)
    parser.add_argument(
        "--also-local-generator",
        action="store_true",
        help="Also measure a server with generator.backend=local (the default, auto, runs it on CUDA only).",
    )
    args = parser.parse_args()
    home = bench_home(args.home)
    result: dict = {"benchmark": "memory", "machine": machine(), "goal_mb": GOAL_MB}
    variants = {"default": None}
    if args.also_local_generator:
        variants["local_generator"] = {"LEPTON_GENERATOR__BACKEND": "local"}
    for name, env in variants.items():
        runs = [measure(home, env) for _ in range(args.runs)]
        log(f"{name}: {runs}")
        result[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]} | {"runs": runs}
    result["rss_mb"] = result["default"]["rss_mb_after_turns"]
    result["within_goal"] = result["rss_mb"] <= GOAL_MB
    emit(result)


if __name__ == "__main__":
    main()
