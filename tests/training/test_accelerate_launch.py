"""The intent trainer under `accelerate launch` with two processes (CPU, gloo): the multi-GPU code path,
refit included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from training import IntentClassifier


def test_two_processes_train_one_model_and_print_once(tmp_path: Path) -> None:
    from tests.training.conftest import TINY_RUN, make_dataset, write_banking_like

    train_x = make_dataset(seed=3)[0]
    data = write_banking_like(tmp_path / "data", seed=3)
    out = tmp_path / "model"
    # --multi_gpu makes accelerate start a torchrun world; without CUDA the trainer runs it on CPU (gloo).
    cmd = [
        str(Path(sys.executable).parent / "accelerate"),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "0",
        "-m",
        "training.evaluation",
        "--dataset",
        "banking77",
        "--path",
        str(data),
        "--out",
        str(out),
        "--json",
        *TINY_RUN,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        cmd, cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # Only rank 0 scores the test split and prints its JSON.
    assert run.stdout.count('"dataset"') == 1
    printed = json.loads(run.stdout[run.stdout.index("{") :])
    assert printed["dataset"] == "banking77" and printed["accuracy"] >= 0.6
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_processes"] == 2
    # Each process sees half the batches: 2 epochs x (n_train // 16 batches) / 2 processes.
    assert metrics["steps"] == 2 * (metrics["n_train"] // 16) // 2
    # The refit (all rows, best epoch count) also ran sharded, and rank 0 wrote its model.
    refit = metrics["refit"]
    assert printed["refit"] == refit and refit["n_train"] == len(train_x)
    assert abs(refit["steps"] - refit["epochs"][0] * (refit["n_train"] // 16) / 2) <= refit["epochs"][0]
    assert IntentClassifier.load(out).predict(["where is my bank card"])[0].name == "card_arrival"
