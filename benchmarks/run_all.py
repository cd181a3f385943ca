"""Run every benchmark and print one JSON object: {"machine", "home", "<name>": <its result>, ...}.

Each benchmark runs in its own process (`python benchmarks/<name>.py`, runnable alone too). The trained demo
home is resolved once (--home, else $LEPTON_CACHE/bench-home, built with `lepton serve --demo` when missing)
and passed to each. `--quick` makes every benchmark small (a smoke run, not numbers to quote).

    python benchmarks/run_all.py [--home DIR] [--quick] [--only latency,throughput]
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, base_args, bench_home, log, machine  # noqa: E402

BENCHMARKS = {
    "latency": ([], ["--requests", "10", "--runs", "1", "--gen-requests", "2"]),
    "throughput": ([], ["--seconds", "4", "--runs", "1"]),
    "ingest": ([], ["--runs", "1", "--synthetic-docs", "40"]),
    "memory": ([], []),
    "train": ([], []),
    "redaction": ([], ["--runs", "1"]),
}
USES_HOME = {"latency", "throughput", "memory"}


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="Comma-separated benchmark names.")
    args = parser.parse_args()
    names = [n for n in BENCHMARKS if not args.only or n in args.only.split(",")]
    home = bench_home(args.home) if USES_HOME & set(names) else None
    result: dict = {"machine": machine(), "home": str(home) if home else None}
    for name in names:
        full, quick = BENCHMARKS[name]
        cmd = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *(quick if args.quick else full)]
        if name in USES_HOME:
            cmd += ["--home", str(home)]
        log(f"== {name}: {' '.join(cmd[1:])}")
        t = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode != 0 or not lines:
            result[name] = {"error": f"exit {out.returncode}", "stdout_tail": out.stdout[-1000:]}
        else:
            result[name] = json.loads(lines[-1])
        result[name]["wall_s"] = round(time.perf_counter() - t, 1)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
