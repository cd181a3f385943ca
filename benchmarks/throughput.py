"""Template-path throughput: 16 concurrent HTTP clients against one real `lepton serve` for N seconds.

The server runs on a copy of a trained demo home with LEPTON_RATE_LIMIT_PER_MINUTE raised (the default of 120
a minute per client IP would turn the benchmark into a rate-limit test) and generator.backend = "none" (the
template path never calls the generator; this only saves start-up time and memory).
Goal: >= 60 turns/s with 0 errors.

    python benchmarks/throughput.py [--home DIR] [--runs 3] [--seconds 10] [--clients 16]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import TEMPLATE_MESSAGES, base_args, bench_home, emit, log, machine, serve, summary  # noqa: E402


def one_run(url: str, clients: int, seconds: float) -> dict:
    import httpx

    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    routes: dict[str, int] = {}

    def client_loop(index: int) -> None:
        session = None
        turns = 0
        with httpx.Client(base_url=url, timeout=60) as client:
            while not stop.is_set():
                message = TEMPLATE_MESSAGES[(index + turns) % len(TEMPLATE_MESSAGES)]
                t = time.perf_counter()
                try:
                    r = client.post("/v1/chat", json={"message": message, "session_id": session})
                    ms = (time.perf_counter() - t) * 1000
                    if r.status_code != 200:
                        with lock:
                            errors.append(f"{r.status_code} {r.text[:200]}")
                        continue
                    body = r.json()
                except Exception as exc:  # counted, never raised: the run goes on
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                turns += 1
                session = None if turns % 10 == 0 else body["session_id"]  # a new conversation every 10 turns
                if stop.is_set():
                    break  # finished after the window: not counted
                with lock:
                    latencies.append(ms)
                    routes[body["route"]] = routes.get(body["route"], 0) + 1

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - start
    for t in threads:
        t.join(120)
    return {
        "turns": len(latencies),
        "seconds": round(elapsed, 2),
        "turns_per_s": round(len(latencies) / elapsed, 2),
        "errors": len(errors),
        "error_samples": errors[:3],
        "routes": routes,
        "latency_ms": summary(latencies),
    }


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    home = bench_home(args.home)
    with serve(
        home, env={"LEPTON_GENERATOR__BACKEND": "none", "LEPTON_RATE_LIMIT_PER_MINUTE": "10000000"}
    ) as live:
        log("warm-up")
        one_run(live.url, args.clients, 2.0)
        runs = []
        for i in range(args.runs):
            runs.append(one_run(live.url, args.clients, args.seconds))
            log(f"run {i + 1}: {runs[-1]['turns_per_s']} turns/s, {runs[-1]['errors']} errors")
    emit(
        {
            "benchmark": "throughput",
            "machine": machine(),
            "clients": args.clients,
            "turns_per_s": round(statistics.median(r["turns_per_s"] for r in runs), 2),
            "errors": sum(r["errors"] for r in runs),
            "goal": {"turns_per_s": 60, "errors": 0},
            "runs": runs,
        }
    )


if __name__ == "__main__":
    main()
