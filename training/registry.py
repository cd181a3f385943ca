"""Versioned intent models on disk with an atomically replaced `current` pointer."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

VERSION = re.compile(r"v\d{1,9}")  # version names: v0001, v0002, ...


def _write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temp file in the same folder, fsync, then os.replace it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ModelRegistry:
    """Model versions under `root/versions/vNNNN`; `root/current.json` names the live one.

    current.json holds {"version": ..., "history": [previously current versions, oldest first]} and
    is only ever replaced with os.replace, so readers see the old or the new pointer, never a torn one.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.pointer = self.root / "current.json"
        self._lock = threading.Lock()

    def _read_pointer(self) -> dict[str, Any]:
        try:
            return json.loads(self.pointer.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"version": None, "history": []}

    def _next_id(self) -> str:
        nums = [int(p.name[1:]) for p in self.versions_dir.glob("v[0-9]*") if p.name[1:].isdigit()]
        return f"v{max(nums, default=0) + 1:04d}"

    def register(self, model_dir: Path, *, metrics: dict, data_fingerprint: str, config: dict) -> str:
        """Copy `model_dir` in as a new version (not promoted) and return its id, e.g. "v0001"."""
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise FileNotFoundError(model_dir)
        with self._lock:
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.versions_dir))
            try:
                shutil.copytree(model_dir, tmp / "model")
                meta = {
                    "metrics": metrics,
                    "data_fingerprint": data_fingerprint,
                    "config": config,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "source": str(model_dir),
                }
                _write_json_atomic(tmp / "registry.json", meta)
                while True:
                    version = self._next_id()
                    try:
                        tmp.rename(self.versions_dir / version)
                        break
                    except OSError:
                        if not (self.versions_dir / version).exists():
                            raise
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return version

    def path_of(self, version: str) -> Path:
        return self.versions_dir / version / "model"

    def promote(self, version: str) -> None:
        """Make `version` current; the previous current goes onto the rollback history."""
        # A name, not a path: "v0001/../v0002" would otherwise pass the folder check.
        if not VERSION.fullmatch(version) or not self.path_of(version).is_dir():
            raise KeyError(f"unknown model version {version!r}")
        with self._lock:
            ptr = self._read_pointer()
            if ptr.get("version") == version:
                return
            history = list(ptr.get("history", []))
            if ptr.get("version"):
                history.append(ptr["version"])
            _write_json_atomic(
                self.pointer, {"version": version, "history": history[-50:], "updated": time.time()}
            )

    def rollback(self) -> str | None:
        """Re-point to the previously current version; return it (None when there is none)."""
        with self._lock:
            ptr = self._read_pointer()
            history = [v for v in ptr.get("history", []) if self.path_of(v).is_dir()]
            if not history:
                return None
            previous = history.pop()
            _write_json_atomic(
                self.pointer, {"version": previous, "history": history, "updated": time.time()}
            )
            return previous

    def promoted(self) -> list[str]:
        """Versions that are or were current and still exist (the rollback history, then the current one)."""
        ptr = self._read_pointer()
        names = [*ptr.get("history", []), ptr.get("version")]
        return list(dict.fromkeys(v for v in names if v and self.path_of(v).is_dir()))

    def current(self) -> tuple[str, Path] | None:
        """(version, model folder) of the live model, or None."""
        version = self._read_pointer().get("version")
        if not version or not self.path_of(version).is_dir():
            return None
        return version, self.path_of(version)

    def metadata(self, version: str) -> dict[str, Any]:
        return json.loads((self.versions_dir / version / "registry.json").read_text())

    def list(self) -> list[dict]:
        """All versions, oldest first, with metrics, fingerprint, config and whether current."""
        cur = self._read_pointer().get("version")
        out = []
        for p in sorted(self.versions_dir.glob("v[0-9]*")):
            if not (p / "registry.json").exists():
                continue
            meta = self.metadata(p.name)
            out.append({"version": p.name, "path": str(p / "model"), "current": p.name == cur, **meta})
        return out
