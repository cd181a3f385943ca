"""Cheap imports: the packages and the commands that need no model load no model stack (torch, transformers,
Chroma), so `lepton --help`, `keys list`, `db upgrade`, `review list` and `models list` answer at once and print
no model-loading output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "sentence_transformers", "chromadb")
LOADING = re.compile(r"%\||it/s|[Ll]oading|[Ww]arning")

# Runs the snippet given as argv[1] (with argv[2:] as the command line), then prints the heavy modules loaded.
PROBE = """
import io, contextlib, json, runpy, sys
heavy, code, args = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
if code.startswith("-m "):
    sys.argv = ["lepton", *args]
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            runpy.run_module(code[3:], run_name="__main__")
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
else:
    exec(code)
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def loaded_heavy(code: str, *args: str) -> tuple[list[str], str]:
    """(heavy modules in sys.modules after `code` ran in a fresh interpreter, its stderr)."""
    run = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), code, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1]), run.stderr


@pytest.mark.parametrize(
    "module",
    [
        "knowledge",
        "knowledge.database",
        "training",
        "assistant",
        "training.review",
        "training.registry",
        "ui.cli",
    ],
)
def test_package_import_loads_no_model_stack(module: str) -> None:
    heavy, _ = loaded_heavy(f"import {module}")
    assert heavy == [], f"import {module} loads {heavy}"


@pytest.mark.parametrize(
    "command",
    [
        ["--help"],
        ["keys", "list"],
        ["db", "upgrade"],
        ["review", "list"],
        ["models", "list"],
        ["models", "list", "--generator"],
    ],
)
def test_commands_without_a_model_load_none(command: list[str], tmp_path: Path) -> None:
    home = [] if command == ["--help"] else ["--home", str(tmp_path)]
    heavy, stderr = loaded_heavy("-m ui.cli", *command, *home)
    assert heavy == [], f"lepton {' '.join(command)} loads {heavy}"
    # Hints ("no keys yet: …") may go to stderr; progress bars and model-loading messages may not.
    assert not LOADING.search(stderr), stderr[-2000:]
