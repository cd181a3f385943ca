"""Moving a home's stores to PostgreSQL and back: `lepton db migrate` copies the home's SQLite files into an
empty PostgreSQL database, `lepton db export` copies a PostgreSQL database into the SQLite files of a new home.

Per store branch (`SQLITE_FILES`): both sides are upgraded to the branch's head, then every table is copied
(knowledge/database/copying.py) in one transaction on the target, so a crash leaves each store on the target
empty or complete; a store's derived index (FTS5 on SQLite, a lexicon on PostgreSQL) is not copied but
rebuilt by its `AFTER_COPY` hook. The model registries move as pointer rows <-> current.json files plus their
versions' folders (assistant/model_moves.py); the keys' pepper goes with the keys, or they stop verifying.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.database_stores import SQLITE_FILES
from knowledge.database import redact_url
from knowledge.lexical_rebuild import rebuild_lexical_index

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from assistant.config import Settings

# A store whose tables feed a derived index registers its rebuild here: called on the target's connection,
# inside the store's copy transaction, after its rows are in (and after --replace cleared them). It must
# rebuild the whole index from the store's tables on that connection's dialect.
AFTER_COPY: dict[str, Callable[[Connection], Any]] = {"kb": rebuild_lexical_index}


class MoveRefused(Exception):
    """The move would lose or mix data, or has nothing to move: a one-line reason, nothing written."""


@dataclass(frozen=True)
class StoreMove:
    """One store moved: from where to where, rows per table, and what the operator must still do."""

    store: str
    source: str
    target: str
    tables: dict[str, int]
    notes: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return asdict(self)


def file_branches() -> dict[str, str]:
    """Every store branch with a SQLite file, and the file's path in a home; an unplaced branch is an error."""
    from knowledge.database import branches

    missing = sorted(set(branches()) - set(SQLITE_FILES))
    if missing:
        raise RuntimeError(f"stores without a SQLite file in SQLITE_FILES: {', '.join(missing)}")
    return {b: name for b in branches() if (name := SQLITE_FILES[b]) is not None}


def migrate_home(settings: Settings, *, replace: bool = False) -> list[StoreMove]:
    """Copy the SQLite stores and model pointers of `settings.home` into `settings.database_url` (refused when
    it already holds rows, unless `replace`: then the target's rows are replaced, store by store)."""
    from assistant import model_moves
    from knowledge.database import close_engine, open_engine, plain_url
    from knowledge.database.copying import (
        TableCopy,
        clear_tables,
        copy_tables,
        count_rows,
        seeded_rows,
        store_tables,
    )

    url = _database_url(settings)
    home = settings.home
    files = file_branches()
    if not home.is_dir() or not any((home / n).exists() for n in [*files.values(), "models"]):
        raise MoveRefused(
            f"{home} is not a Lepton home (none of {', '.join([*files.values(), 'models/'])} in it)"
        )
    where = redact_url(plain_url(url))
    target = open_engine(url, home / "unused.db")  # PostgreSQL: the path is not used
    _upgrade_all(target)
    for branch, name in files.items():  # the source too, so both have the same columns
        if (home / name).exists():
            _upgrade_file(home / name, branch)

    if not replace:
        held: list[str] = []
        with target.connect() as conn:
            for branch in files:
                seeded = seeded_rows(branch)
                found = count_rows(conn, store_tables(branch))
                held += [f"{t} {n}" for t, n in found.items() if n > seeded.get(t, 0)]
            if model_moves.pointer_rows(conn):
                held.append("model_pointers")
        held += [str(d) for d in model_moves.occupied_artifacts(settings)]
        if held:
            raise MoveRefused(
                f"{where} is not empty ({', '.join(held)}): migrate copies into an empty database; "
                "pass --replace to overwrite what is there"
            )
    key_notes = _check_pepper(settings, home)

    moves: list[StoreMove] = []
    for branch, name in files.items():
        tables = store_tables(branch)
        path = home / name
        with target.begin() as conn:
            clear_tables(conn, tables)  # what --replace overwrites, or only the migrations' own seed rows
            if path.exists():
                source = open_engine(None, path)
                try:
                    copied = copy_tables(source, conn, tables)
                finally:
                    close_engine(source)
            else:
                copied = [TableCopy(t, 0) for t in tables]
            if branch in AFTER_COPY:
                AFTER_COPY[branch](conn)
        notes = key_notes if branch == "keys" and any(c.rows for c in copied) else []
        if not path.exists():
            notes = [f"{path} does not exist: nothing to copy"]
        moves.append(StoreMove(branch, str(path), where, {c.table: c.rows for c in copied}, notes))

    # Models: the versions first, so a pointer row never names a version the replicas cannot find.
    notes: list[str] = []
    if model_moves.artifacts_elsewhere(settings):
        kinds = model_moves.copy_artifacts(settings.models_dir, settings.artifacts_dir, replace=replace)
        notes.append(f"copied {', '.join(kinds) or 'no'} model versions to {settings.artifacts_dir}")
    with target.begin() as conn:
        rows = model_moves.write_pointer_rows(conn, settings.models_dir, replace=replace)
    moves.append(StoreMove("models", str(settings.models_dir), where, {"model_pointers": rows}, notes))
    return moves


def export_home(settings: Settings, to: Path) -> list[StoreMove]:
    """Copy the stores and model pointers of `settings.database_url` into SQLite files in the new home `to`
    (refused when `to` exists and is not empty). The home is assembled beside `to` and renamed into place."""
    from assistant import model_moves
    from knowledge.database import close_engine, open_engine, plain_url
    from knowledge.database.copying import clear_tables, copy_tables, count_rows, store_tables

    url = _database_url(settings)
    to = Path(to)
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise MoveRefused(f"{to} exists and is not empty: export writes a new home")
    where = redact_url(plain_url(url))
    source = open_engine(url, Path("unused.db"))
    _upgrade_all(source)
    with source.connect() as conn:
        keys = sum(count_rows(conn, store_tables("keys")).values()) if "keys" in SQLITE_FILES else 0
    pepper = _shared_pepper_or_refuse(settings) if keys else None

    staging = to.parent / f".{to.name}.export-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    moves: list[StoreMove] = []
    try:
        for branch, name in file_branches().items():
            path = staging / name
            engine = _upgrade_file(path, branch, keep=True)
            try:
                with engine.begin() as conn:
                    # A new file holds only its migrations' seed rows (kb's meta): the source's replace them.
                    clear_tables(conn, store_tables(branch))
                    copied = copy_tables(source, conn, store_tables(branch))
                    if branch in AFTER_COPY:
                        AFTER_COPY[branch](conn)
            finally:
                close_engine(engine)
            moves.append(StoreMove(branch, where, str(to / name), {c.table: c.rows for c in copied}))
        if pepper is not None:
            _write_private(staging / "keys.pepper", pepper)
        models = staging / "models"
        kinds = model_moves.copy_artifacts(settings.artifacts_dir, models)
        with source.connect() as conn:
            rows = model_moves.write_pointer_files(conn, models)
        notes = [f"copied {', '.join(kinds) or 'no'} model versions from {settings.artifacts_dir}"]
        moves.append(StoreMove("models", where, str(to / "models"), {"model_pointers": rows}, notes))
        if to.exists():
            to.rmdir()  # empty (checked above)
        staging.rename(to)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return moves


def _database_url(settings: Settings) -> Any:
    if settings.database_url is None:
        raise MoveRefused("no database: pass --database-url postgresql://… or set database_url")
    return settings.database_url


def _upgrade_all(engine: Engine) -> None:
    from knowledge.database import branches, upgrade

    for branch in branches():
        upgrade(engine, branch)


def _upgrade_file(path: Path, branch: str, *, keep: bool = False) -> Engine | None:
    """Bring the SQLite file `path` to `branch`'s head; its engine when `keep`, else closed."""
    from knowledge.database import close_engine, open_engine, upgrade

    engine = open_engine(None, path)
    try:
        upgrade(engine, branch)
    except BaseException:
        close_engine(engine)
        raise
    if keep:
        return engine
    close_engine(engine)
    return None


def _check_pepper(settings: Settings, home: Path) -> list[str]:
    """Keys verify only under the pepper they were made with (HOME/keys.pepper): refuse a different configured
    pepper; without one, say what every replica needs."""
    from assistant.keys import KeyPepperError, shared_pepper

    own = home / "keys.pepper"
    if not own.is_file():
        return []
    if settings.key_pepper is None and settings.key_pepper_file is None:
        return [f"set key_pepper_file = {own} (a copy on every replica): the keys' digests use that pepper"]
    try:
        configured = shared_pepper(settings)
    except KeyPepperError as exc:
        raise MoveRefused(str(exc)) from None
    if configured != own.read_bytes():
        raise MoveRefused(
            f"the configured key pepper is not {own}: the copied keys would not verify; set key_pepper_file "
            "to (a copy of) that file"
        )
    return []


def _shared_pepper_or_refuse(settings: Settings) -> bytes:
    from assistant.keys import KeyPepperError, shared_pepper

    try:
        return shared_pepper(settings)
    except KeyPepperError as exc:
        raise MoveRefused(f"the keys cannot be exported without their pepper: {exc}") from None


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
