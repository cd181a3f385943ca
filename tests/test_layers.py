"""The import contract of pyproject.toml ([tool.importlinter]): ui -> assistant -> training -> knowledge.

`make lint` runs `lint-imports` too; this test is what puts the contract into `make test`, which CI runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ui", "assistant", "training", "knowledge")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the packages under `root`, with the contract of this repository's pyproject.toml."""
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dependencies_point_one_way() -> None:
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_a_forbidden_import_breaks_the_contract(tmp_path: Path) -> None:
    """The check is not vacuous: a copy of the tree where training imports assistant (lazily, inside a
    function, as a shortcut would) fails it."""
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "static"))
    (tmp_path / "training" / "shortcut.py").write_text(
        "def reply(text):\n    from assistant.pipeline import Assistant\n\n    return Assistant\n"
    )
    run = lint_imports(tmp_path)
    assert run.returncode != 0
    assert "training is not allowed to import assistant" in run.stdout
    assert "training.shortcut -> assistant.pipeline" in run.stdout
