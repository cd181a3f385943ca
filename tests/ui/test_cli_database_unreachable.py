"""Any `lepton` command on a PostgreSQL that cannot be reached ends with one line naming the database (its
password hidden) and exit code 2: no traceback, nothing half-done."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port
from ui.cli.database_errors import connection_failure


def lepton(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "80", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [["keys", "list"], ["review", "list"], ["db", "upgrade"]])
def test_a_database_that_refuses_connections_is_one_line_without_the_password(
    tmp_path: Path, command: list[str]
) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://lepton:s3cret-pass@127.0.0.1:{port}/lepton"
    env = {"LEPTON_DATABASE_URL": url, "LEPTON_KEY_PEPPER": "p" * 32}
    (tmp_path / "home").mkdir()
    done = lepton(*command, "--home", str(tmp_path / "home"), env=env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        f"error: cannot reach the database postgresql://lepton:***@127.0.0.1:{port}/lepton"
    )
    assert "refused" in lines[0].lower() or "connect" in lines[0].lower()
    assert "s3cret-pass" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_other_errors_are_not_taken_for_connection_failures() -> None:
    assert connection_failure(ValueError("connection to server")) is None
    assert connection_failure(RuntimeError("boom")) is None
