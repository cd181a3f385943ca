"""The home folder is private: conversations, keys and models are for the account that runs Lepton only."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("lepton.home")

# Group and others lose every bit: new files are 0600 and folders 0700 (`serve` sets this umask).
PRIVATE_UMASK = 0o077


def make_private(home: Path) -> None:
    """Create `home` (0700) and take group / other access off everything in it, so homes made by older
    versions (databases 0644, the folder 0755) are fixed on the next start. Links are not followed."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    _restrict(home)
    for root, dirs, files in os.walk(home):
        for name in dirs + files:
            _restrict(Path(root) / name)


def _restrict(path: Path) -> None:
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
            return
        os.chmod(path, stat.S_IMODE(st.st_mode) & 0o700)
    except OSError as exc:  # a file of another account, or gone meanwhile: say so, do not fail the start
        log.warning("could not make %s private: %s", path, exc)
