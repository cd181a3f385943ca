"""Versioned models (intent models, generator adapters) on disk, with a `current` pointer.

The versions are folders under `root/versions/` (root: HOME/models/<kind>, or the shared `artifact_dir` every
replica mounts). The pointer is `root/current.json`, replaced atomically (one machine, the default), or with
`database_url` a row in PostgreSQL that every replica polls (training/model_pointers.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

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


class Pointer(Protocol):
    """Where a registry's pointer lives: read it, or change it as one atomic step."""

    def read(self) -> dict[str, Any]: ...

    def change(self, edit: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any] | None: ...


class FilePointer:
    """The pointer as a JSON file, only ever replaced with os.replace: readers see the old or the new pointer,
    never a torn one. Changes are serialized within a process (as before: one machine, one writer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {"version": None, "history": []}

    def change(self, edit: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any] | None:
        with self._lock:
            new = edit(self.read())
            if new is None:
                return None
            written = {"version": new.get("version"), "history": list(new.get("history", []))[-50:]}
            written["updated"] = time.time()
            _write_json_atomic(self.path, written)
            return written


class ModelRegistry:
    """Model versions under `root/versions/vNNNN`; the pointer names the live one.

    The pointer holds {"version": ..., "history": [previously current versions, oldest first]}: in
    `root/current.json` by default, or in the database at `database_url` under `kind` (default: the root's
    folder name), where every replica sharing the database and the artifact folder reads it.
    """

    def __init__(
        self, root: Path, *, database_url: Any = None, kind: str | None = None, pointer: Pointer | None = None
    ) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.pointer = self.root / "current.json"
        self._lock = threading.Lock()
        self._pointer: Pointer = pointer or FilePointer(self.pointer)
        if pointer is None and database_url:
            from training.model_pointers import DatabasePointer, pointer_engine

            engine = pointer_engine(database_url)
            self._pointer = DatabasePointer(
                engine, kind or self.root.name, fallback=FilePointer(self.pointer)
            )

    def _read_pointer(self) -> dict[str, Any]:
        return self._pointer.read()

    def _next_id(self) -> str:
        nums = [int(p.name[1:]) for p in self.versions_dir.glob("v[0-9]*") if p.name[1:].isdigit()]
        return f"v{max(nums, default=0) + 1:04d}"

    def register(self, model_dir: Path, *, metrics: dict, data_fingerprint: str, config: dict) -> str:
        """Copy `model_dir` in as a new version (not promoted) and return its id, e.g. "v0001".

        The version is assembled in a hidden folder beside the others and renamed into place: rename() is
        atomic on one filesystem (NFS included), so no reader sees half a version, and it fails when the name
        is taken (the folder is never empty), so two processes or replicas registering at once get distinct
        versions: the loser takes the next number.
        """
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
                    except OSError:  # taken meanwhile by another process: try the next number
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

        def edit(ptr: dict[str, Any]) -> dict[str, Any] | None:
            if ptr.get("version") == version:
                return None
            history = list(ptr.get("history", []))
            if ptr.get("version"):
                history.append(ptr["version"])
            return {"version": version, "history": history}

        self._pointer.change(edit)

    def rollback(self) -> str | None:
        """Re-point to the previously current version; return it (None when there is none)."""

        def edit(ptr: dict[str, Any]) -> dict[str, Any] | None:
            history = [v for v in ptr.get("history", []) if self.path_of(v).is_dir()]
            if not history:
                return None
            previous = history.pop()
            return {"version": previous, "history": history}

        written = self._pointer.change(edit)
        return written["version"] if written is not None else None

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
