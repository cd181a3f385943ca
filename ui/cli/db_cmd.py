"""`lepton db`: the stores' database (the home's SQLite files, or PostgreSQL when `database_url` is set)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ui.cli.common import Home, fail, settings_for
from ui.cli.database_errors import connection_failure

db_app = typer.Typer(
    help="The stores' database: SQLite files in the home or PostgreSQL.", no_args_is_help=True
)


@db_app.command("upgrade")
def db_upgrade(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, a row per store.")] = False,
    home: Home = None,
) -> None:
    """Run every store's migrations now (servers also run them when they start)."""
    from assistant.database_stores import upgrade_stores

    settings = settings_for(home)
    try:
        done = upgrade_stores(settings)
    except Exception as exc:  # a failed migration: say it in one line
        if connection_failure(exc):
            raise  # the root group names the database it could not reach
        fail(f"upgrade failed: {type(exc).__name__}: {_first_line(exc)}")
        return
    if as_json:
        print(json.dumps([d.public() for d in done]))
        return
    for d in done:
        state = f"upgraded {d.before or 'nothing'} -> {d.after}" if d.changed else f"up to date ({d.after})"
        print(f"{d.store}: {state}  ({d.where})")


DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="postgresql://user:password@host:port/database (default: the configured database_url).",
    ),
]


@db_app.command("migrate")
def db_migrate(
    database_url: DatabaseUrlOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the rows the database already holds.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, a row per store.")] = False,
    home: Home = None,
) -> None:
    """Copy the home's SQLite stores (and model pointers) into an empty PostgreSQL database."""
    from assistant.home_moves import migrate_home

    settings = _settings(home, database_url)
    _report(lambda: migrate_home(settings, replace=replace), "migrate", as_json)


@db_app.command("export")
def db_export(
    to: Annotated[Path, typer.Option("--to", help="The new home folder to write (must not hold anything).")],
    database_url: DatabaseUrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, a row per store.")] = False,
    home: Home = None,
) -> None:
    """Copy the PostgreSQL stores (and model pointers) into the SQLite files of a new home."""
    from assistant.home_moves import export_home

    settings = _settings(home, database_url)
    _report(lambda: export_home(settings, to), "export", as_json)


def _settings(home: Path | None, database_url: str | None) -> Any:
    """The home's settings with `--database-url` over the configured one; a bad URL is one line."""
    try:
        return settings_for(home, database_url=database_url)
    except ValueError as exc:  # pydantic's ValidationError: its message never repeats the password
        errors = getattr(exc, "errors", lambda: [])()
        fail(errors[0]["msg"].removeprefix("Value error, ") if errors else _first_line(exc))


def _report(move: Callable[[], list[Any]], verb: str, as_json: bool) -> None:
    """Run `move`; print its stores (or one JSON array), or fail with one line."""
    from assistant.home_moves import MoveRefused

    try:
        done = move()
    except MoveRefused as exc:
        fail(f"{verb} refused: {exc}")
        return
    except Exception as exc:  # a server that cannot be reached, a refused login: say it in one line
        fail(f"{verb} failed: {type(exc).__name__}: {_first_line(exc)}")
        return
    if as_json:
        print(json.dumps([d.public() for d in done]))
        return
    for d in done:
        rows = ", ".join(f"{t} {n}" for t, n in d.tables.items()) or "no tables"
        print(f"{d.store}: {d.source} -> {d.target}: {rows}")
        for note in d.notes:
            print(f"  {note}")


def _first_line(exc: Exception) -> str:
    """The error's first line: a driver's message can run over many lines of SQL and hints."""
    from knowledge.database import redact_url

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    # Drivers quote the URL they failed on in some messages: never print its password.
    return " ".join(redact_url(w) if "://" in w else w for w in text.split(" "))
