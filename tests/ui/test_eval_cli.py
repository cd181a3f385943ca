"""`lepton eval intents`: one JSON line from a real (tiny) training run; bad settings and folders are refused
before any training, with a message and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.training.conftest import TINY_RUN, write_banking_like
from ui.cli import app


@pytest.fixture
def banking_like(tmp_path: Path) -> Path:
    return write_banking_like(tmp_path / "banking77", seed=5)


def test_eval_intents_prints_one_json_line_and_applies_settings(banking_like: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    args = ["eval", "intents", "--dataset", "banking77", "--path", str(banking_like), "--json"]
    result = CliRunner().invoke(app, [*args, *TINY_RUN, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert row["dataset"] == "banking77" and row["accuracy"] >= 0.6
    assert 0 < row["macro_f1"] <= 1 and row["train_seconds"] > 0
    # The settings reached the trainer, and --out kept the model that was scored.
    assert row["epochs_run"] <= 2 and row["refit"]["n_train"] > row["n_train"]
    config = json.loads((out / "config.json").read_text())
    assert config["max_length"] == 32 and config["refit"] is True
    assert row["model_dir"] == str(out)


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("epoch=2", "KEY one of epochs"),
        ("epochs", "KEY=VALUE"),
        ("epochs=two", "invalid literal"),
        ("epochs=0", "epochs must be >= 1"),
        ("refit=maybe", "not true or false"),
        ("min_oos_recall=high", "not a number"),
        ("ood_method=vibes", "ood_method must be one of"),
    ],
)
def test_bad_settings_are_refused_before_training(banking_like: Path, setting: str, says: str) -> None:
    args = [
        "eval",
        "intents",
        "--dataset",
        "banking77",
        "--path",
        str(banking_like),
        "--json",
        "--set",
        setting,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert says in " ".join(result.output.split())  # rich wraps long lines
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bad_dataset_folders_are_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "clinc"
    broken.mkdir()
    (broken / "data_full.json").write_text('{"train": [], "val": "nope"}')
    cases = [
        ("banking77", tmp_path / "missing", "no such file or folder"),
        ("banking77", empty, "lacks train.csv and test.csv"),
        ("clinc150", empty, "not CLINC150's data_full.json"),
        ("clinc150", broken, "needs the lists val, test, oos_train"),
        ("snips", empty, "dataset must be one of"),
    ]
    for dataset, path, says in cases:
        result = runner.invoke(app, ["eval", "intents", "--dataset", dataset, "--path", str(path), "--json"])
        assert result.exit_code == 2, (dataset, path, result.output)
        assert says in " ".join(result.output.split()), result.output
