"""The model registries in a move between SQLite and PostgreSQL (`lepton db migrate|export`).

On SQLite a registry's pointer is HOME/models/<kind>/current.json; on PostgreSQL it is a row of
`model_pointers` and the versions sit in `artifact_dir` (HOME/models when unset). Migrate writes the rows from
the home's current.json files and copies the versions to `artifact_dir`; export writes current.json files
from the rows and copies the versions from `artifact_dir` into the new home.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.model_registries import GENERATOR, INTENTS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from assistant.config import Settings

KINDS = (INTENTS, GENERATOR)  # each also names its folder: HOME/models/intents, HOME/models/generator


def artifacts_elsewhere(settings: Settings) -> bool:
    """True when `artifact_dir` is set and is not the home's own models folder (migrate copies into it)."""
    if settings.artifact_dir is None:
        return False
    return Path(settings.artifact_dir).resolve() != settings.models_dir.resolve()


def occupied_artifacts(settings: Settings) -> list[Path]:
    """The kinds' folders in `artifact_dir` that already hold something (migrate would mix two homes' models)."""
    if not artifacts_elsewhere(settings):
        return []
    return [d for kind in KINDS if (d := settings.artifacts_dir / kind).is_dir() and any(d.iterdir())]


def copy_artifacts(source_root: Path, target_root: Path, *, replace: bool = False) -> list[str]:
    """Copy each kind's folder (versions, stored training data, current.json) from `source_root` to
    `target_root`; a kind is assembled in a hidden folder and renamed into place, so a crash never leaves half
    a registry. Returns the kinds copied."""
    copied: list[str] = []
    for kind in KINDS:
        source = source_root / kind
        if not source.is_dir():
            continue
        target = target_root / kind
        target_root.mkdir(parents=True, exist_ok=True)
        staging = target_root / f".{kind}.copy-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            # Half-registered versions (.incoming-*) are a crashed registration's leftovers, not a version.
            shutil.copytree(source, staging, ignore=shutil.ignore_patterns(".incoming-*"))
            if target.exists() and replace:
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        copied.append(kind)
    return copied


def write_pointer_rows(conn: Connection, models_dir: Path, *, replace: bool = False) -> int:
    """Write a `model_pointers` row per kind from `models_dir/<kind>/current.json` (the caller's
    transaction); with `replace` the kinds' rows there are deleted first. Returns the rows written."""
    from sqlalchemy import delete, insert

    from training.model_pointers import MODEL_POINTERS
    from training.registry import FilePointer

    if replace:
        conn.execute(delete(MODEL_POINTERS).where(MODEL_POINTERS.c.kind.in_(KINDS)))
    written = 0
    for kind in KINDS:
        pointer = FilePointer(models_dir / kind / "current.json").read()
        if not pointer.get("version"):
            continue
        conn.execute(
            insert(MODEL_POINTERS).values(
                kind=kind,
                version=pointer["version"],
                history=json.dumps(list(pointer.get("history", []))),
                updated_at=float(pointer.get("updated") or time.time()),
                updated_by=str(pointer.get("by") or "lepton db migrate"),
            )
        )
        written += 1
    return written


def write_pointer_files(conn: Connection, models_dir: Path) -> int:
    """Write `models_dir/<kind>/current.json` from each kind's `model_pointers` row. Returns the files written."""
    from sqlalchemy import select

    from training.model_pointers import MODEL_POINTERS
    from training.registry import FilePointer

    written = 0
    for row in conn.execute(select(MODEL_POINTERS).where(MODEL_POINTERS.c.kind.in_(KINDS))):
        history = json.loads(row.history or "[]")
        FilePointer(models_dir / row.kind / "current.json").change(
            lambda _old, row=row, history=history: {"version": row.version, "history": history}
        )
        written += 1
    return written


def pointer_rows(conn: Connection) -> int:
    """How many kinds have a pointer row (a non-empty target for migrate)."""
    from sqlalchemy import func, select

    from training.model_pointers import MODEL_POINTERS

    return conn.execute(
        select(func.count()).select_from(MODEL_POINTERS).where(MODEL_POINTERS.c.kind.in_(KINDS))
    ).scalar_one()
