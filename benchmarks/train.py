"""Demo intent training time: `lepton train intents --demo` on a fresh home, end to end (a new process each run).

Each run trains from scratch on the bundled demo intents (English and Chinese) into a new temporary home, so
the first model is promoted; the time includes loading the encoder, fine-tuning, held-out scoring and
registration. Minutes on CPU: the default is one run (use --runs 3 for a median).

    python benchmarks/train.py [--runs 1]
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, base_args, emit, log, machine  # noqa: E402


def train_once() -> dict:
    with tempfile.TemporaryDirectory(prefix="lepton-train-") as tmp:
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "ui.cli", "train", "intents", "--demo", "--home", str(Path(tmp) / "home")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ},
        )
        seconds = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"training failed ({out.returncode}): {out.stderr[-2000:]}")
    text = out.stdout + out.stderr
    acc = re.search(r"held-out accuracy ([0-9.]+), macro-F1 ([0-9.]+)", text)
    return {
        "seconds": round(seconds, 1),
        "promoted": "promoted" in out.stdout and "not promoted" not in out.stdout,
        "heldout_accuracy": float(acc.group(1)) if acc else None,
        "heldout_macro_f1": float(acc.group(2)) if acc else None,
    }


def main() -> None:
    parser = base_args(__doc__.splitlines()[0])
    parser.set_defaults(runs=1)
    args = parser.parse_args()
    runs = []
    for i in range(args.runs):
        runs.append(train_once())
        log(f"run {i + 1}: {runs[-1]}")
    emit(
        {
            "benchmark": "train",
            "machine": machine(),
            "seconds": round(statistics.median(r["seconds"] for r in runs), 1),
            "runs": runs,
        }
    )


if __name__ == "__main__":
    main()
