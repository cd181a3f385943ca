"""The home folder and everything in it are private to the account that runs Lepton."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from assistant.home import make_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_new_home_is_created_private(tmp_path: Path) -> None:
    make_private(tmp_path / "a" / "home")
    assert _mode(tmp_path / "a" / "home") == 0o700


def test_an_older_home_loses_group_and_other_access(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "kb" / "chroma").mkdir(parents=True)
    for d in (home, home / "kb", home / "kb" / "chroma"):
        d.chmod(0o755)
    files = [home / "conversations.db", home / "conversations.db-wal", home / "kb" / "chroma" / "data.bin"]
    for f in files:
        f.write_bytes(b"x")
        f.chmod(0o644)
    tool = home / "hook.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    outside = tmp_path / "shared.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    (home / "link").symlink_to(outside)

    make_private(home)

    assert all(_mode(d) == 0o700 for d in (home, home / "kb", home / "kb" / "chroma"))
    assert all(_mode(f) == 0o600 for f in files)
    assert _mode(tool) == 0o700  # the owner keeps what it had
    assert _mode(outside) == 0o644  # links are not followed out of the home
    assert os.access(home / "conversations.db", os.R_OK | os.W_OK)
