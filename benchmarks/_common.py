"""Shared helpers of the benchmark scripts: a trained demo home, real `lepton serve` processes, statistics.

Every script prints one JSON object on its last stdout line; progress goes to stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "OMP_WAIT_POLICY": "PASSIVE",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_k, _v)

# Messages that the demo routes to a slot-free answer template (checked per reply: `route_mismatch` counts
# the ones that went elsewhere with the model in use).
TEMPLATE_MESSAGES = [
    "how do I reset my password",
    "How much is express shipping?",
    "Do gift cards expire?",
    "What happens if my package is marked delivered but I never got it?",
    "Can I change the delivery address after ordering?",
    "Do you price match if I find it cheaper elsewhere?",
    "Do you deliver to Canada and who pays the import duties?",
    "What is your warranty on laptops?",
]
# Messages that the demo answers from retrieved passages (no confident template).
RAG_MESSAGES = [
    "how does delivery work for a sofa? will the guys bring it inside and set it up for me?",
    "Who pays return shipping for a sofa?",
    "Can I use two gift cards on one order?",
    "Do you sell refurbished phones?",
    "How long do refunds take?",
]


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def emit(result: dict) -> None:
    """The script's result: one JSON line on stdout."""
    print(json.dumps(result, ensure_ascii=False), flush=True)


def machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cpus": os.cpu_count(), "loadavg_1m": round(load[0], 2), "python": sys.version.split()[0]}


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest-rank on the sorted values; p in 0..100)."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def summary(values: list[float]) -> dict:
    """n, p50, p95, mean and max of a list of milliseconds (rounded)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(pct(values, 50), 2),
        "p95": round(pct(values, 95), 2),
        "mean": round(statistics.fmean(values), 2),
        "max": round(max(values), 2),
    }


def median_of(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(vals), 2) if vals else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cache_dir() -> Path:
    return Path(os.environ.get("LEPTON_CACHE", Path.home() / ".cache" / "lepton"))


def is_trained_home(home: Path) -> bool:
    return (home / "models" / "intents" / "current.json").is_file() and (home / "kb" / "kb.db").is_file()


def bench_home(home: Path | None) -> Path:
    """A trained demo home: `home` when given, else one cached under $LEPTON_CACHE/bench-home, built once with
    `lepton serve --demo` (ingest + intent training: minutes on CPU)."""
    if home is not None:
        home = Path(home).resolve()
        if not is_trained_home(home):
            raise SystemExit(
                f"{home} is not a trained Lepton home (no models/intents/current.json or kb/kb.db)"
            )
        return home
    target = cache_dir() / "bench-home"
    if is_trained_home(target):
        return target
    log(f"building a demo home in {target} with `lepton serve --demo` (ingest + training; minutes on CPU)")
    target.mkdir(parents=True, exist_ok=True)
    with serve(target, copy=False, demo=True, env={"LEPTON_GENERATOR__BACKEND": "none"}, timeout_s=3600):
        pass
    return target


def copy_home(src: Path, dst: Path) -> Path:
    """A copy of a home without its conversation log (each run starts with an empty log)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("conversations.db*", "review.db*"))
    return dst


@dataclass
class Live:
    url: str
    home: Path
    proc: subprocess.Popen
    log_path: Path


def wait_healthy(url: str, proc: subprocess.Popen, log_path: Path, timeout_s: float) -> None:
    import httpx

    deadline = time.time() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not become healthy in {timeout_s:.0f} s")
        time.sleep(0.5)


def start_server(
    home: Path,
    *,
    env: dict[str, str] | None = None,
    demo: bool = False,
    port: int | None = None,
    timeout_s: float = 600,
    log_path: Path | None = None,
) -> Live:
    """Start `lepton serve` on `home` (no copy) and wait for /healthz."""
    port = port or free_port()
    log_path = log_path or home.parent / f"server-{port}.log"
    full_env = {**os.environ, "LEPTON_RATE_LIMIT_PER_MINUTE": "1000000", **(env or {})}
    cmd = [sys.executable, "-m", "ui.cli", "serve", "--home", str(home), "--port", str(port)]
    if demo:
        cmd.append("--demo")
    with log_path.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc, log_path, timeout_s)
    return Live(url, home, proc, log_path)


def stop_server(live: Live) -> None:
    live.proc.terminate()
    try:
        live.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        live.proc.kill()
        live.proc.wait()


@contextmanager
def serve(home: Path, *, copy: bool = True, **kwargs) -> Iterator[Live]:
    """A running server on `home` (a fresh copy of it unless copy=False); stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="lepton-bench-") as tmp:
        where = copy_home(home, Path(tmp) / "home") if copy else home
        kwargs.setdefault("log_path", Path(tmp) / "server.log")
        live = start_server(where, **kwargs)
        try:
            yield live
        finally:
            stop_server(live)


def admin_key(home: Path) -> str:
    """A new admin key for `home`, made with the CLI (`lepton keys create --kind admin`)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "keys",
            "create",
            "--kind",
            "admin",
            "--name",
            "bench",
            "--home",
            str(home),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def base_args(description: str):
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="A trained demo home to copy (default: build or reuse $LEPTON_CACHE/bench-home).",
    )
    parser.add_argument("--runs", type=int, default=3, help="Repetitions; the reported numbers are medians.")
    return parser
